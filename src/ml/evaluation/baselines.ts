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
import { TagAverageBuilder, tagAverageOf, type TagAverages } from '../baselines/tag-average.js';

/** GLOBAL_AVG and TAG_AVG by tag index (src/ml/baselines/tag-average.ts, as serving computes them). */
export type Averages = TagAverages<number>;

/** GLOBAL_AVG and per-tag averages of `posts` (items x d) over the items in `from`. */
export function averages(ds: Dataset, posts: Float32Array, d: number, from: Uint8Array): Averages {
  const builder = new TagAverageBuilder<number>(d);
  for (let i = 0; i < from.length; i++) if (from[i]) builder.add(posts, tagsOf(ds, i), i * d);
  return builder.result();
}

function tagsOf(ds: Dataset, i: number): Int32Array {
  return ds.items.tagIds.subarray(ds.items.tagOffsets[i], ds.items.tagOffsets[i + 1]);
}

/** items x d matrices with rows filled for `targets` only. */
function matrix(ds: Dataset, d: number): Float32Array {
  return new Float32Array(ds.items.ids.length * d);
}

export function globalAverageEmbeddings(ds: Dataset, avg: Averages, d: number, targets: Int32Array): Float32Array {
  const out = matrix(ds, d);
  const global = avg.global ?? new Float32Array(d);
  for (const p of targets) out.set(global, p * d);
  return out;
}

export function tagAverageEmbeddings(ds: Dataset, avg: Averages, d: number, targets: Int32Array): { embeddings: Float32Array; tagFallbacks: number } {
  const out = matrix(ds, d);
  const global = avg.global ?? new Float32Array(d);
  let tagFallbacks = 0;
  for (const p of targets) {
    const v = tagAverageOf(avg, tagsOf(ds, p));
    if (!v) tagFallbacks++;
    out.set(v ?? global, p * d);
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
