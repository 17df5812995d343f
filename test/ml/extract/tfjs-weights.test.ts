/**
 * Weight decoding against tfjs-core's own decoder (tf.io.decodeWeights) on one buffer holding every dtype and
 * quantization a manifest may use: float32, int32, bool, a string weight (skipped, but its bytes counted), uint8 and
 * uint16 quantized float32 (q * scale + min), uint8 quantized int32 (rounded), float16 (with a subnormal, an
 * infinity and a negative zero). Values must match exactly: both sides do the same float64 arithmetic, rounded once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TfjsConversionError } from '../../../src/ml/extract/tfjs/errors.js';
import { decodeWeights, halfToFloat, type WeightSpec } from '../../../src/ml/extract/tfjs/weights.js';
import { Rng } from '../../../src/ml/graph/rng.js';
import { tf } from './tfjs-reference.js';

function buffer(): { specs: WeightSpec[]; data: Uint8Array } {
  const rng = new Rng(11);
  const parts: Uint8Array[] = [];
  const specs: WeightSpec[] = [];
  const push = (spec: WeightSpec, bytes: Uint8Array) => {
    specs.push(spec);
    parts.push(bytes);
  };
  push({ name: 'f32', shape: [3, 4], dtype: 'float32' }, new Uint8Array(Float32Array.from({ length: 12 }, () => rng.uniform(-3, 3)).buffer));
  // 5 uint8 bytes leave the next weight at an odd offset, which a Uint16Array view could not read.
  push({ name: 'q8', shape: [5], dtype: 'float32', quantization: { dtype: 'uint8', min: -1.25, scale: 0.0123 } }, Uint8Array.from([0, 1, 127, 200, 255]));
  push({ name: 'q16', shape: [7], dtype: 'float32', quantization: { dtype: 'uint16', min: -3, scale: 1e-4 } }, new Uint8Array(Uint16Array.from([0, 1, 30000, 65535, 12345, 2, 40000]).buffer));
  const s = (str: string) => { const b = Buffer.from(str); const out = new Uint8Array(4 + b.length); new DataView(out.buffer).setUint32(0, b.length, true); out.set(b, 4); return out; };
  const strings = [s('hello'), s('')];
  push({ name: 'str', shape: [2], dtype: 'string' }, new Uint8Array([...strings[0], ...strings[1]]));
  // halves: 1, -2, 0.5, smallest subnormal, +inf, -0, 65504 (max), 0.333...
  push({ name: 'h16', shape: [8], dtype: 'float32', quantization: { dtype: 'float16' } }, new Uint8Array(Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x0001, 0x7c00, 0x8000, 0x7bff, 0x3555]).buffer));
  push({ name: 'qi', shape: [4], dtype: 'int32', quantization: { dtype: 'uint8', min: -10, scale: 0.3 } }, Uint8Array.from([0, 5, 17, 255]));
  push({ name: 'i32', shape: [3], dtype: 'int32' }, new Uint8Array(Int32Array.from([-7, 0, 123456]).buffer));
  push({ name: 'flags', shape: [2], dtype: 'bool' }, Uint8Array.from([1, 0]));
  push({ name: 'tail', shape: [2], dtype: 'float32' }, new Uint8Array(Float32Array.from([1.5, -2.5]).buffer));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { specs, data };
}

test('decodeWeights matches tfjs-core on every dtype and quantization', () => {
  const { specs, data } = buffer();
  const ours = decodeWeights(specs, data);
  const ref = tf.io.decodeWeights(data.slice().buffer, specs as tf.io.WeightsManifestEntry[]);
  for (const spec of specs) {
    if (spec.dtype === 'string') {
      assert.equal(ours.has(spec.name), false);
      continue;
    }
    const mine = ours.get(spec.name)!;
    assert.deepEqual(mine.shape, spec.shape);
    assert.equal(mine.dtype, spec.dtype);
    const theirs = ref[spec.name].dataSync();
    assert.deepEqual(Array.from(mine.data), Array.from(theirs), spec.name);
  }
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.ok(Object.is(halfToFloat(0x8000), -0));
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
});

test('decodeWeights: short data, a quantization without min/scale, an unknown dtype are BAD_WEIGHTS', () => {
  const { specs, data } = buffer();
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof TfjsConversionError && e.code === 'BAD_WEIGHTS' && re.test(e.message));
  bad(() => decodeWeights(specs, data.subarray(0, data.length - 1)), /tail/);
  bad(() => decodeWeights([{ name: 'q', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8' } }], new Uint8Array(2)), /min and scale/);
  bad(() => decodeWeights([{ name: 'c', shape: [1], dtype: 'complex64' }], new Uint8Array(8)), /complex64/);
  bad(() => decodeWeights([{ name: 'q', shape: [1], dtype: 'float32', quantization: { dtype: 'int4' as 'uint8' } }], new Uint8Array(8)), /int4/);
});
