/**
 * Wide content made narrow for a linear fit: per modality, z-score the columns over the fitting posts and project on
 * the top `k` principal directions (as HYBRID_MF does, src/ml/hybrid/features.ts). A ridge on 2,292 raw video columns
 * costs ~40 s (a 2,292^2 Gram and one Cholesky per λ); on 4 x 32 components it is instant, and the backbone's
 * content-only vectors it is fitted to are themselves linear in such components.
 *
 *   u_m = P_m ((raw_m - mu_m) * s_m)      a present modality (s = 1/sd, 0 for a constant column); 0 when missing
 *   composed back to raw inputs: raw_m A_m + present_m B_m with A_m = diag(s_m) P_m^T A'_m and
 *   B_m = B'_m - (mu_m * s_m) P_m^T A'_m, for a fit c + sum_m (u_m A'_m + present_m B'_m) on the reduced inputs
 */
import { featurePresence, featureRow } from '../../datasets/features.js';
import type { Dataset, FeatureMatrix, Modality } from '../../datasets/types.js';
import { principalDirections } from '../hybrid/pca.js';
import type { ModalitySpec } from '../memer/config.js';
import { Rng } from '../../lib/random.js';
import type { RidgeAffine } from './ridge.js';

/** Rows the principal directions are computed from (a seeded sample of the fitting posts beyond it). */
const PCA_ROWS = 4096;

interface Projection {
  spec: ModalitySpec;
  mean: Float64Array;
  scale: Float64Array;
  /** k x dim, row-major; null = identity (dim <= k) */
  directions: Float64Array | null;
  k: number;
}

export interface ReducedContent {
  /** `ds` with each modality of `specs` replaced by its reduced rows (float32; missing rows stay all zero) */
  ds: Dataset;
  specs: ModalitySpec[];
  /** the affine map of a fit on the reduced inputs, rewritten on the raw ones */
  compose(reduced: RidgeAffine, d: number): RidgeAffine;
}

export function reducedContent(ds: Dataset, specs: readonly ModalitySpec[], fitOn: Uint8Array, k: number, seed: number): ReducedContent {
  const n = ds.items.ids.length;
  const features: Partial<Record<Modality, FeatureMatrix>> = { ...ds.features };
  const projections: Projection[] = specs.map((spec) => {
    const m = ds.features[spec.modality]!;
    const present = featurePresence(m);
    const dim = spec.dim;
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (fitOn[i] && present[i]) rows.push(i);
    const mean = new Float64Array(dim);
    const sq = new Float64Array(dim);
    const raw = new Float32Array(m.dim);
    for (const i of rows) {
      featureRow(m, i, raw);
      for (let j = 0; j < dim; j++) (mean[j] += raw[j]), (sq[j] += raw[j] * raw[j]);
    }
    const scale = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      mean[j] = rows.length ? mean[j] / rows.length : 0;
      const sd = rows.length ? Math.sqrt(Math.max(0, sq[j] / rows.length - mean[j] * mean[j])) : 0;
      scale[j] = sd > 1e-12 ? 1 / sd : 0;
    }
    const z = (i: number, out: Float32Array) => {
      featureRow(m, i, raw);
      for (let j = 0; j < dim; j++) out[j] = (raw[j] - mean[j]) * scale[j];
    };
    let directions: Float64Array | null = null;
    const kk = Math.min(k, dim);
    if (dim > k && rows.length > 0) {
      const sample = new Rng(seed ^ 0x7ca).shuffle(Int32Array.from(rows)).subarray(0, Math.min(rows.length, PCA_ROWS));
      const x = new Float32Array(sample.length * dim);
      const buf = new Float32Array(dim);
      sample.forEach((i, r) => (z(i, buf), x.set(buf, r * dim)));
      directions = principalDirections(x, sample.length, dim, kk, seed).vectors;
    }
    const out = new Float32Array(n * kk);
    const buf = new Float32Array(dim);
    for (let i = 0; i < n; i++) {
      if (!present[i]) continue;
      z(i, buf);
      for (let c = 0; c < kk; c++) {
        let s = 0;
        if (directions) for (let j = 0; j < dim; j++) s += directions[c * dim + j] * buf[j];
        else s = buf[c];
        // A present post's reduced row must not read as missing (all zero).
        out[i * kk + c] = s;
      }
      if (out.subarray(i * kk, (i + 1) * kk).every((v) => v === 0)) out[i * kk] = 1e-30;
    }
    features[spec.modality] = { rows: n, dim: kk, dtype: 'float32', data: out };
    return { spec, mean, scale, directions, k: kk };
  });
  return {
    ds: { ...ds, features },
    specs: projections.map((p) => ({ modality: p.spec.modality, dim: p.k })),
    compose(reduced: RidgeAffine, d: number): RidgeAffine {
      const presence = Float64Array.from(reduced.presence);
      const weights = projections.map((p, b) => {
        const dim = p.spec.dim;
        const ar = reduced.weights[b]; // k x d
        const a = new Float32Array(dim * d);
        for (let j = 0; j < dim; j++) {
          for (let c = 0; c < d; c++) {
            let s = 0;
            if (p.directions) for (let q = 0; q < p.k; q++) s += p.directions[q * dim + j] * ar[q * d + c];
            else s = ar[j * d + c];
            const w = p.scale[j] * s;
            a[j * d + c] = w;
            presence[b * d + c] -= p.mean[j] * w;
          }
        }
        return a;
      });
      return { weights, presence: Float32Array.from(presence), bias: reduced.bias };
    },
  };
}
