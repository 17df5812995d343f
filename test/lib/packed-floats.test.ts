import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHalf, halfToNumber } from '../../src/datasets/float16.js';
import { packFloats, unpackFloats } from '../../src/lib/packed-floats.js';

const values = [0, -0.5, 1 / 3, 65504, -1e-7, 123.456, 2 ** -20];

test('f32 packing round-trips every float32 exactly, in little-endian byte order', () => {
  const packed = packFloats(values, 'f32');
  assert.deepEqual([...unpackFloats(packed)], [...Float32Array.from(values)]);
  // 1.0f is 00 00 80 3f little-endian.
  assert.equal(packFloats([1], 'f32'), `f32:${Buffer.from([0, 0, 0x80, 0x3f]).toString('base64')}`);
});

test('f16 packing rounds as storage does (nearest even) and unpacks to those values', () => {
  assert.deepEqual([...unpackFloats(packFloats(values, 'f16'))], values.map((v) => halfToNumber(toHalf(v))));
  // 1.0 as a half is 0x3c00: bytes 00 3c.
  assert.equal(packFloats([1], 'f16'), `f16:${Buffer.from([0, 0x3c]).toString('base64')}`);
  assert.equal(unpackFloats('f16:').length, 0);
});

test('malformed packed vectors are rejected with the reason', () => {
  assert.throws(() => unpackFloats('f8:AAAA'), /must start with "f16:" or "f32:"/);
  assert.throws(() => unpackFloats('f16:AA A'), /standard, padded base64/);
  assert.throws(() => unpackFloats('f16:AAA'), /standard, padded base64/);
  assert.throws(() => unpackFloats('f16:AA=='), /holds 1 bytes, not a multiple of 2/);
});
