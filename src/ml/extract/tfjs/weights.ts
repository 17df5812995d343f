/**
 * TF.js weight manifests: the spec of each weight (name, shape, dtype, optional quantization) and the decoding of the
 * concatenated weight bytes into typed arrays, with tfjs-core's semantics (io_utils decodeWeight):
 *   uint8 / uint16 quantization   value = q * scale + min (rounded for int32 weights)
 *   float16 quantization          IEEE half -> float32 (float32 weights only)
 * Weights are little-endian and packed back to back in manifest order, across shard boundaries.
 */
import { TfjsConversionError } from './errors.js';

export interface Quantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  min?: number;
  scale?: number;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
  quantization?: Quantization;
  group?: string;
}

export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

export type WeightData = Float32Array | Int32Array | Uint8Array;

export interface DecodedWeight {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: WeightData;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE 754 half (bits) to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeOne(spec: WeightSpec, view: DataView, offset: number): { weight?: DecodedWeight; bytes: number } {
  const n = size(spec.shape);
  const fail = (why: string) => new TfjsConversionError('BAD_WEIGHTS', `weight ${spec.name}: ${why}`);
  if (spec.dtype === 'string') {
    // Strings are length-prefixed (uint32) byte runs; no converted op reads them, so they are only skipped.
    let at = offset;
    for (let i = 0; i < n; i++) {
      if (at + 4 > view.byteLength) throw fail('the weight bytes end inside it');
      at += 4 + view.getUint32(at, true);
    }
    return { bytes: at - offset };
  }
  if (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool') throw fail(`dtype ${spec.dtype} is not supported`);
  const q = spec.quantization;
  const stored = q ? q.dtype : spec.dtype;
  const width = BYTES[stored];
  if (width === undefined) throw fail(`quantization dtype ${stored} is not supported (uint8, uint16, float16 are)`);
  const bytes = n * width;
  if (offset + bytes > view.byteLength) throw fail(`needs ${bytes} bytes at offset ${offset}, the weight data has ${view.byteLength}`);
  const read = (i: number): number => {
    const at = offset + i * width;
    switch (stored) {
      case 'float32': return view.getFloat32(at, true);
      case 'int32': return view.getInt32(at, true);
      case 'uint8': case 'bool': return view.getUint8(at);
      case 'uint16': case 'float16': return view.getUint16(at, true);
      default: throw fail(`unreachable dtype ${stored}`);
    }
  };
  let data: WeightData;
  if (!q) {
    data = spec.dtype === 'float32' ? new Float32Array(n) : spec.dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = read(i);
  } else if (q.dtype === 'float16') {
    if (spec.dtype !== 'float32') throw fail(`float16 quantization of a ${spec.dtype} weight`);
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = halfToFloat(read(i));
  } else {
    if (typeof q.min !== 'number' || typeof q.scale !== 'number') throw fail(`${q.dtype} quantization without min and scale`);
    if (spec.dtype === 'bool') throw fail(`${q.dtype} quantization of a bool weight`);
    const { min, scale } = q;
    if (spec.dtype === 'float32') {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = read(i) * scale + min;
    } else {
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) data[i] = Math.round(read(i) * scale + min);
    }
  }
  return { weight: { name: spec.name, shape: [...spec.shape], dtype: spec.dtype, data }, bytes };
}

/** Decode every weight of `specs` from `data` (all shards concatenated in manifest order), by name. */
export function decodeWeights(specs: readonly WeightSpec[], data: Uint8Array): Map<string, DecodedWeight> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Map<string, DecodedWeight>();
  let offset = 0;
  for (const spec of specs) {
    if (!spec || typeof spec.name !== 'string' || !Array.isArray(spec.shape)) throw new TfjsConversionError('BAD_WEIGHTS', `malformed weight spec ${JSON.stringify(spec)}`);
    const { weight, bytes } = decodeOne(spec, view, offset);
    offset += bytes;
    if (weight) out.set(spec.name, weight);
  }
  return out;
}
