/**
 * Synthetic MEMER data with planted structure, for tests and benchmarks (no dataset files needed).
 *
 * Glossary
 *   c_i        a hidden content factor of item i, N(0, I_k)
 *   x_{i,m}    offset_m + scale_m * (c_i P_m + noise): features, deliberately un-normalised
 *   v_i        content * tanh(c_i Q) / sqrt(d) + tagStrength * mean_{t in tags(i)} m_t + noise: the "mature" backbone
 *              embedding (by default, content = 1 and no tags: a function of the content alone)
 *   m_t        with `tags` > 0: a mean vector per tag, N(0, 1/d); each item has 1 or 2 tags
 *   v_u        N(0, 1/d) user embeddings;  y ~ Bernoulli(sigmoid(sharpness * d * v_i . v_u))
 */
import type { FeatureMatrix, Modality } from '../../datasets/types.js';
import { Rng } from '../graph/rng.js';
import type { ModalitySpec } from './config.js';
import type { MemerTrainingData } from './data.js';
import type { ItemTags } from './prior.js';

export interface SyntheticOptions {
  /** modalities and dims */
  readonly modalities: readonly ModalitySpec[];
  /** number of items */
  readonly items: number;
  /** number of users */
  readonly users: number;
  /** number of interactions */
  readonly samples: number;
  /** embedding size d */
  readonly embeddingDim: number;
  /** size k of the hidden content factor */
  readonly factors: number;
  /** probability that a non-first modality is missing for an item */
  readonly missingRate: number;
  /** label sharpness (higher: labels more predictable) */
  readonly sharpness: number;
  readonly seed: number;
  /** number of tags (0: items have no tags) */
  readonly tags?: number;
  /** weight of the tags' means in v_i */
  readonly tagStrength?: number;
  /** weight of the content part of v_i (0: the features carry no information about v_i, pure noise) */
  readonly contentStrength?: number;
  /** standard deviation of independent noise added to each component of v_i, times 1/sqrt(d) */
  readonly embeddingNoise?: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = Object.freeze({
  modalities: [{ modality: 'visual', dim: 24 }, { modality: 'audio', dim: 8 }, { modality: 'text', dim: 6 }] as ModalitySpec[],
  items: 400,
  users: 50,
  samples: 4000,
  embeddingDim: 8,
  factors: 4,
  missingRate: 0.2,
  sharpness: 1.5,
  seed: 7,
});

export function syntheticData(over: Partial<SyntheticOptions> = {}): MemerTrainingData {
  const o = { ...DEFAULT_SYNTHETIC, ...over };
  const rng = new Rng(o.seed);
  const { items: I, users: U, embeddingDim: d, factors: k } = o;
  const content = rng.fillNormal(new Float32Array(I * k));
  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  const presence: Partial<Record<Modality, Uint8Array>> = {};
  o.modalities.forEach((spec, mi) => {
    const P = rng.fillNormal(new Float32Array(k * spec.dim), 1 / Math.sqrt(k));
    const offset = rng.uniform(-3, 3);
    const scale = rng.uniform(0.5, 4);
    const data = new Float32Array(I * spec.dim);
    for (let i = 0; i < I; i++) {
      for (let j = 0; j < spec.dim; j++) {
        let s = 0;
        for (let f = 0; f < k; f++) s += content[i * k + f] * P[f * spec.dim + j];
        data[i * spec.dim + j] = offset + scale * (s + 0.3 * (rng.next() - 0.5));
      }
    }
    features[spec.modality] = { rows: I, dim: spec.dim, dtype: 'float32', data };
    if (mi > 0 && o.missingRate > 0) {
      const p = new Uint8Array(I);
      for (let i = 0; i < I; i++) p[i] = rng.next() < o.missingRate ? 0 : 1;
      for (let i = 0; i < I; i++) if (!p[i]) data.fill(0, i * spec.dim, (i + 1) * spec.dim);
      presence[spec.modality] = p;
    }
  });
  const Q = rng.fillNormal(new Float32Array(k * d), 1 / Math.sqrt(k));
  const embeddings = new Float32Array(I * d);
  const cs = o.contentStrength ?? 1;
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let f = 0; f < k; f++) s += content[i * k + f] * Q[f * d + j];
      embeddings[i * d + j] = (cs * Math.tanh(s)) / Math.sqrt(d);
    }
  }
  let tags: ItemTags | undefined;
  const T = o.tags ?? 0;
  if (T > 0) {
    const means = rng.fillNormal(new Float32Array(T * d), 1 / Math.sqrt(d));
    const offsets = new Int32Array(I + 1);
    const ids: number[] = [];
    const ts = o.tagStrength ?? 1;
    for (let i = 0; i < I; i++) {
      const a = rng.int(T);
      const mine = rng.next() < 0.5 ? [a] : [...new Set([a, rng.int(T)])];
      ids.push(...mine);
      offsets[i + 1] = ids.length;
      for (let j = 0; j < d; j++) {
        let m = 0;
        for (const t of mine) m += means[t * d + j];
        embeddings[i * d + j] += (ts * m) / mine.length;
      }
    }
    tags = { names: Array.from({ length: T }, (_, t) => `tag${t}`), offsets, ids: Int32Array.from(ids) };
  }
  if ((o.embeddingNoise ?? 0) > 0) for (let x = 0; x < I * d; x++) embeddings[x] += (rng.normal() * o.embeddingNoise!) / Math.sqrt(d);
  const userEmbeddings = rng.fillNormal(new Float32Array(U * d), 1 / Math.sqrt(d));
  const freq = rng.fillUniform(new Float32Array(I), 0.5, 1);
  const item = new Int32Array(o.samples);
  const user = new Int32Array(o.samples);
  const label = new Uint8Array(o.samples);
  for (let s = 0; s < o.samples; s++) {
    const i = rng.int(I);
    const u = rng.int(U);
    let dot = 0;
    for (let j = 0; j < d; j++) dot += embeddings[i * d + j] * userEmbeddings[u * d + j];
    const p = 1 / (1 + Math.exp(-o.sharpness * d * dot));
    item[s] = i;
    user[s] = u;
    label[s] = rng.next() < p ? 1 : 0;
  }
  return {
    items: { count: I, features, presence, embeddings, freq, ...(tags ? { tags } : {}) },
    userEmbeddings,
    samples: { length: o.samples, item, user, label },
  };
}
