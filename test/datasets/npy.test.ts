import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npyHeaderBytes, parseNpyHeader, readNpy, writeNpy, NpyWriter } from '../../src/datasets/npy.js';
import { halfToNumber, halvesToFloats, toHalf, floatsToHalves } from '../../src/datasets/float16.js';
import { DatasetError } from '../../src/datasets/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'memer-npy-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The bytes numpy.save writes for np.arange(6, dtype='<f4').reshape(2, 3), built by hand from the format spec. */
function numpyBytes(descr: string, shape: string, data: Buffer, major = 1): Buffer {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pre = major === 1 ? 10 : 12;
  dict += ' '.repeat(63 - ((pre + dict.length) % 64)) + '\n';
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(head);
  if (major === 1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), data]);
}

test('header written for float32 (2, 3) is byte-identical to numpy.save output and 64-byte aligned', () => {
  const ours = npyHeaderBytes('float32', [2, 3]);
  const theirs = numpyBytes('<f4', '(2, 3)', Buffer.alloc(0));
  assert.equal(ours.length, 128);
  assert.equal(ours.readUInt16LE(8), 118);
  assert.deepEqual(ours, theirs);
  assert.equal(npyHeaderBytes('float16', [5]).toString('latin1').includes("'shape': (5,)"), true);
});

test('reads numpy-made files: little-endian f4, big-endian f4, f8 narrowed, v2.0 header', async () => {
  const values = [0, 1, 2.5, -3, 1e-3, 65536];
  const le = Buffer.alloc(24);
  const be = Buffer.alloc(24);
  const f8 = Buffer.alloc(48);
  values.forEach((v, i) => {
    le.writeFloatLE(v, i * 4);
    be.writeFloatBE(v, i * 4);
    f8.writeDoubleLE(v, i * 8);
  });
  const cases: [string, Buffer][] = [
    ['le.npy', numpyBytes('<f4', '(2, 3)', le)],
    ['be.npy', numpyBytes('>f4', '(2, 3)', be)],
    ['f8.npy', numpyBytes('<f8', '(2, 3)', f8)],
    ['v2.npy', numpyBytes('<f4', '(2, 3)', le, 2)],
  ];
  for (const [name, bytes] of cases) {
    writeFileSync(join(dir, name), bytes);
    const arr = await readNpy(join(dir, name));
    assert.equal(arr.dtype, 'float32', name);
    assert.deepEqual(arr.shape, [2, 3], name);
    assert.deepEqual(Array.from(arr.data), values.map((v) => Math.fround(v)), name);
  }
});

test('float16: known bit patterns, round to nearest even, subnormals, overflow, NaN', () => {
  const known: [number, number][] = [
    [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0.1, 0x2e66],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [70000, 0x7c00], [-Infinity, 0xfc00], [2 ** -26, 0], [-0, 0x8000],
  ];
  for (const [v, h] of known) assert.equal(toHalf(v), h, `toHalf(${v})`);
  assert.ok(Number.isNaN(halfToNumber(toHalf(NaN))));
  // Every finite half survives widen -> narrow.
  for (let h = 0; h < 0x10000; h++) if ((h & 0x7c00) !== 0x7c00) assert.equal(toHalf(halfToNumber(h)), h);
});

test('round trip through files: float32 exact, float16 within half precision; streamed rows', async () => {
  const rows = 50;
  const dim = 7;
  const data = Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(i) * (i % 5) * 10);
  writeNpy(join(dir, 'f32.npy'), { dtype: 'float32', shape: [rows, dim], data });
  const back = await readNpy(join(dir, 'f32.npy'));
  assert.deepEqual(back.shape, [rows, dim]);
  assert.deepEqual(back.data, data);

  const w = new NpyWriter(join(dir, 'f16.npy'), 'float16', rows, dim);
  for (let r = 0; r < rows; r += 10) w.writeFloats(data.subarray(r * dim, (r + 10) * dim));
  w.close();
  const half = await readNpy(join(dir, 'f16.npy'));
  assert.equal(half.dtype, 'float16');
  assert.ok(half.data instanceof Uint16Array);
  assert.deepEqual(half.data, floatsToHalves(data, new Uint16Array(data.length)));
  const widened = halvesToFloats(half.data as Uint16Array);
  for (let i = 0; i < data.length; i++) assert.ok(Math.abs(widened[i] - data[i]) <= Math.abs(data[i]) * 2 ** -11 + 2 ** -24, `${i}`);
  const bytes = readFileSync(join(dir, 'f16.npy'));
  assert.equal(bytes.length, 128 + rows * dim * 2);
  assert.equal(parseNpyHeader(bytes).descr, '<f2');
});

test('errors: truncated data, bad magic, fortran order, unsupported dtype, wrong row count on write', async () => {
  const le = Buffer.alloc(20);
  const fortran = numpyBytes('<f4', '(2, 3)', Buffer.alloc(24)).toString('latin1').replace('False', 'True ');
  const bad: [string, Buffer, RegExp][] = [
    ['short.npy', numpyBytes('<f4', '(2, 3)', le), /needs 24/],
    ['magic.npy', Buffer.from('not numpy at all, just text'), /magic/],
    ['fortran.npy', Buffer.from(fortran, 'latin1'), /fortran_order/],
    ['int.npy', numpyBytes('<i4', '(2, 3)', Buffer.alloc(24)), /not float16\/32\/64/],
  ];
  for (const [name, bytes, why] of bad) {
    writeFileSync(join(dir, name), bytes);
    await assert.rejects(readNpy(join(dir, name)), (e: unknown) => e instanceof DatasetError && e.file.endsWith(name) && why.test(e.message), name);
  }
  const w = new NpyWriter(join(dir, 'few.npy'), 'float32', 3, 2);
  w.writeFloats(new Float32Array(2));
  assert.throws(() => w.writeFloats(new Float32Array(3)), /whole number/);
  assert.throws(() => w.close(), /wrote 1 rows, header says 3/);
});
