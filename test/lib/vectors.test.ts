import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToHalves, bytesToVector, halvesToBytes, vectorToBytes } from '../../src/lib/vectors.js';

test('vectors are stored as little-endian float32 bytes, whatever view they come from', () => {
  assert.deepEqual([...vectorToBytes([1, -2])], [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  const stored = new Uint8Array(12);
  stored.set(vectorToBytes(Float32Array.of(0.5, 3)), 3); // a view at an unaligned offset, as a driver may hand back
  const back = bytesToVector(stored.subarray(3, 11));
  assert.deepEqual([...back], [0.5, 3]);
  stored.fill(0);
  assert.deepEqual([...back], [0.5, 3], 'the vector owns its memory');
  assert.throws(() => bytesToVector(new Uint8Array(6)), /not a multiple of 4/);
});

test('float16 halves are stored as little-endian uint16 bytes', () => {
  const halves = Uint16Array.of(0x3c00, 0xc000, 0x7bff); // 1, -2, 65504
  const bytes = halvesToBytes(halves.subarray(1));
  assert.deepEqual([...bytes], [0x00, 0xc0, 0xff, 0x7b]);
  const padded = new Uint8Array(7);
  padded.set(bytes, 1);
  assert.deepEqual([...bytesToHalves(padded.subarray(1, 5))], [0xc000, 0x7bff]);
});
