/**
 * Post embeddings of the compared methods (paper 3.1.2), for the evaluated posts.
 *
 * Glossary (d = embedding size, x_p = the FFM (mature) embedding of post p, S = the training posts past M)
 *   RANDOM       each component ~ N(0, 1/d), seeded
 *   GLOBAL_AVG   X = sum_{p in S} x_p / |S|
 *   TAG_AVG      X_tag = mean of x_p over p in S with that tag; a post with several tags gets the mean of its tags'
 *                averages; a post none of whose tags occurs in S gets GLOBAL_AVG (counted in `tagFallbacks`)
 *   MATURE       x_p itself (the reference of RelaImpr)
 *   MEMER        dec1(enc2(feat_p), freq) from the exported inference model (eq. 12)
 */
import type { Dataset } from '../../datasets/types.js';
import type { MemerModel } from '../pipeline/memer-model.js';
import { embedPosts } from '../pipeline/calibration.js';
import { MemerEmbedder } from '../memer/inference.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import { Rng } from '../../lib/random.js';

export interface Averages {
  global: Float32Array;
  /** Per tag index: the average, or undefined when no post of S has the tag. */
  byTag: (Float32Array | undefined)[];
}

/** GLOBAL_AVG and per-tag averages of `posts` (items x d) over the items in `from`. */
export function averages(ds: Dataset, posts: Float32Array, d: number, from: Uint8Array): Averages {
  const T = ds.items.tagNames.length;
  const global = new Float64Array(d);
  const sums = Array.from({ length: T }, () => null as Float64Array | null);
  const counts = new Int32Array(T);
  let n = 0;
  for (let i = 0; i < from.length; i++) {
    if (!from[i]) continue;
    n++;
    for (let j = 0; j < d; j++) global[j] += posts[i * d + j];
    for (let a = ds.items.tagOffsets[i]; a < ds.items.tagOffsets[i + 1]; a++) {
      const t = ds.items.tagIds[a];
      const s = (sums[t] ??= new Float64Array(d));
      for (let j = 0; j < d; j++) s[j] += posts[i * d + j];
      counts[t]++;
    }
  }
  return {
    global: Float32Array.from(global, (x) => (n > 0 ? x / n : 0)),
    byTag: sums.map((s, t) => (s ? Float32Array.from(s, (x) => x / counts[t]) : undefined)),
  };
}

/** items x d matrices with rows filled for `targets` only. */
function matrix(ds: Dataset, d: number): Float32Array {
  return new Float32Array(ds.items.ids.length * d);
}

export function globalAverageEmbeddings(ds: Dataset, avg: Averages, d: number, targets: Int32Array): Float32Array {
  const out = matrix(ds, d);
  for (const p of targets) out.set(avg.global, p * d);
  return out;
}

export function tagAverageEmbeddings(ds: Dataset, avg: Averages, d: number, targets: Int32Array): { embeddings: Float32Array; tagFallbacks: number } {
  const out = matrix(ds, d);
  let tagFallbacks = 0;
  for (const p of targets) {
    let k = 0;
    for (let a = ds.items.tagOffsets[p]; a < ds.items.tagOffsets[p + 1]; a++) {
      const v = avg.byTag[ds.items.tagIds[a]];
      if (!v) continue;
      for (let j = 0; j < d; j++) out[p * d + j] += v[j];
      k++;
    }
    if (k === 0) {
      out.set(avg.global, p * d);
      tagFallbacks++;
    } else for (let j = 0; j < d; j++) out[p * d + j] /= k;
  }
  return { embeddings: out, tagFallbacks };
}

export function randomEmbeddings(ds: Dataset, d: number, targets: Int32Array, seed: number): Float32Array {
  const out = matrix(ds, d);
  const rng = new Rng(seed);
  const sd = 1 / Math.sqrt(d);
  for (const p of targets) for (let j = 0; j < d; j++) out[p * d + j] = rng.normal(0, sd);
  return out;
}

export function matureEmbeddings(ds: Dataset, posts: Float32Array, d: number, targets: Int32Array): Float32Array {
  const out = matrix(ds, d);
  for (const p of targets) out.set(posts.subarray(p * d, (p + 1) * d), p * d);
  return out;
}

/** MEMER embeddings through the exported ONNX model (the serving path), `freq(p)` per post. */
export async function memerEmbeddings(ds: Dataset, runtime: OnnxRuntime, model: MemerModel, d: number, targets: Int32Array, freq: (p: number) => number): Promise<Float32Array> {
  const out = matrix(ds, d);
  const embedder = await MemerEmbedder.load(runtime, model.info.version, model.onnx);
  try {
    const emb = await embedPosts(ds, embedder, model.modalities, targets, freq);
    targets.forEach((p, k) => out.set(emb.subarray(k * d, (k + 1) * d), p * d));
  } finally {
    await runtime.unload(model.info.version);
  }
  return out;
}
