/**
 * Offset calibration of a MEMER model: the mean of its embeddings in the dimensions where every user vector holds the
 * same value (the hybrid's [p_u, 1]: the post bias; the bias-folded FFM's [v_u, 1, b_u]: dimension k) is set to the
 * backbone's own mean over the same posts.
 *
 * Why: a score shift common to every user is invisible to what training validates (AUC and GAUC per signal and
 * media type) and free for the BCE term, which uses it to match its sampled label rate: a BPR-trained backbone's
 * scores have no absolute level. Left alone, one media type's model can move every one of its posts by a constant
 * (the simulator: -2.7 for videos, -0.1 for images), and a ranking that mixes media types (EARLY recommendations)
 * then puts every video below every image. Shifting those dimensions changes no per-user order within the model.
 *
 * The reference is the backbone's content-only vectors when it has them (what it would give a cold post itself),
 * else the mature posts' vectors; the model's side is its embedding at freq 0 (a post at upload) over every post it
 * trained on.
 */
import type { Dataset } from '../../datasets/types.js';
import type { MemerEmbedder, PostFeatures } from '../memer/inference.js';
import { postFeatureVectors, postTagNames } from './features.js';
import type { ModalitySpec } from '../memer/config.js';

export interface OffsetCalibration {
  /** the calibrated dimensions (every user holds one value there) */
  dims: number[];
  /** per dimension: what was added to the model's output */
  shift: number[];
  /** per dimension: the reference mean the model now matches */
  reference: number[];
  referenceOf: 'backbone-content' | 'mature';
  posts: number;
}

/** Dimensions j where every row of `users` (n x d) holds the same non-zero value. */
export function constantUserDims(users: Float32Array, d: number): number[] {
  const n = users.length / d;
  const out: number[] = [];
  for (let j = 0; j < d && n > 0; j++) {
    const c = users[j];
    if (c === 0) continue;
    let same = true;
    for (let u = 1; u < n && same; u++) same = users[u * d + j] === c;
    if (same) out.push(j);
  }
  return out;
}

/** Embeddings of dataset posts `items` through a loaded MEMER model at `freq(item)`, row-major [items, d]. */
export async function embedPosts(ds: Dataset, embedder: MemerEmbedder, modalities: readonly ModalitySpec[], items: ArrayLike<number>, freq: (item: number) => number): Promise<Float32Array> {
  const d = embedder.info.embeddingDim;
  const out = new Float32Array(items.length * d);
  const chunk = 1024;
  for (let start = 0; start < items.length; start += chunk) {
    const end = Math.min(items.length, start + chunk);
    const posts: PostFeatures[] = [];
    for (let k = start; k < end; k++) posts.push({ features: postFeatureVectors(ds, items[k], modalities), freq: freq(items[k]), tags: postTagNames(ds, items[k]) });
    out.set(await embedder.embedMany(posts), start * d);
  }
  return out;
}

/**
 * The shifts that bring the model's mean embedding (`embedded`, row k = items[k]) in the constant user dimensions to the
 * reference mean over the same posts (`reference`: items x d by global index; `referencePosts`: which items count,
 * all when null).
 */
export function offsetShifts(
  embedded: Float32Array,
  items: ArrayLike<number>,
  reference: Float32Array,
  referencePosts: Uint8Array | null,
  dims: readonly number[],
  d: number,
): { shift: number[]; reference: number[] } {
  const shift: number[] = [];
  const means: number[] = [];
  for (const j of dims) {
    let model = 0;
    let ref = 0;
    let nRef = 0;
    for (let k = 0; k < items.length; k++) {
      model += embedded[k * d + j];
      if (referencePosts && !referencePosts[items[k]]) continue;
      ref += reference[items[k] * d + j];
      nRef++;
    }
    const target = nRef ? ref / nRef : model / Math.max(1, items.length);
    means.push(target);
    shift.push(items.length ? target - model / items.length : 0);
  }
  return { shift, reference: means };
}
