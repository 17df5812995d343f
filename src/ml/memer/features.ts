/**
 * Reading rows of a FeatureMatrix (float32, or float16 stored as raw Uint16 halves) into float32 buffers,
 * and per-dimension normalisation statistics learned from the training items.
 *
 * Glossary
 *   mu_j, sd_j   mean and standard deviation of feature j over the training items that have the modality
 *   s_j          1 / sd_j, or 0 when sd_j < MIN_STD (a feature constant in training carries no signal and is dropped)
 *   normalised   x~_j = (x_j - mu_j) * s_j
 */
import type { FeatureMatrix } from '../../datasets/types.js';

/** Features whose training std is below this are treated as constant (scale 0). */
export const MIN_STD = 1e-6;

let halfTable: Float32Array | undefined;

/** float16 bit pattern -> float32 value, for all 65536 patterns. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  halfTable = t;
  return t;
}

/** Copy row `row` of `m` into `out` at `offset` (float32). */
export function readRow(m: FeatureMatrix, row: number, out: Float32Array, offset: number): void {
  const start = row * m.dim;
  if (m.dtype === 'float32') {
    out.set((m.data as Float32Array).subarray(start, start + m.dim), offset);
    return;
  }
  const t = halfToFloatTable();
  const src = m.data as Uint16Array;
  for (let j = 0; j < m.dim; j++) out[offset + j] = t[src[start + j]];
}

export interface ModalityStats {
  /** mu per dim */
  mean: Float32Array;
  /** sd per dim (population) */
  std: Float32Array;
  /** s per dim: 1/sd, or 0 for constant features */
  scale: Float32Array;
  /** training items the statistics were computed over */
  count: number;
}

/** Mean / std per dim over `rows` of `m` that are present (presence[row] != 0, or all when no presence array). */
export function modalityStats(m: FeatureMatrix, rows: ArrayLike<number>, presence?: Uint8Array): ModalityStats {
  const sum = new Float64Array(m.dim);
  const sumSq = new Float64Array(m.dim);
  const row = new Float32Array(m.dim);
  let count = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (presence && !presence[r]) continue;
    readRow(m, r, row, 0);
    for (let j = 0; j < m.dim; j++) {
      sum[j] += row[j];
      sumSq[j] += row[j] * row[j];
    }
    count++;
  }
  const mean = new Float32Array(m.dim);
  const std = new Float32Array(m.dim);
  const scale = new Float32Array(m.dim);
  for (let j = 0; j < m.dim; j++) {
    const mu = count ? sum[j] / count : 0;
    const variance = count ? Math.max(0, sumSq[j] / count - mu * mu) : 0;
    const sd = Math.sqrt(variance);
    mean[j] = mu;
    std[j] = sd;
    scale[j] = sd >= MIN_STD ? 1 / sd : 0;
  }
  return { mean, std, scale, count };
}

/** JSON form (plain number arrays) for model metadata. */
export function statsToJson(s: ModalityStats): { mean: number[]; std: number[]; count: number } {
  return { mean: Array.from(s.mean), std: Array.from(s.std), count: s.count };
}

export function statsFromJson(j: { mean: number[]; std: number[]; count: number }): ModalityStats {
  const std = Float32Array.from(j.std);
  return { mean: Float32Array.from(j.mean), std, scale: std.map((sd) => (sd >= MIN_STD ? 1 / sd : 0)), count: j.count };
}
