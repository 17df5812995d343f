/**
 * The hybrid backbone (pipeline option backbone 'hybrid'): a LightFM-style factorisation (src/ml/hybrid, BPR, item
 * vectors from an id embedding plus tags and content) trained on one signal's interactions, served bias-folded:
 *
 *   posts     [q_i, b_i]          q_i = id + tags + content part, b_i the item bias (d = k + 1)
 *   users     [p_u, 1]            so users . posts = p_u . q_i + b_i, the model's whole score
 *   content   [q~_i, b~_i]        the tags and content part alone: what the model gives an item it has never seen,
 *                                  the target of MEMER's linear prior (memer-model.ts)
 *
 * Why: the FFM backbone's post vectors are mostly initial noise on sparse signals and its user vectors were never
 * asked to score content; here the user vectors are trained against content-derived item vectors, so a cold post's
 * content predicts where it belongs (docs/memer.md, "Backbones").
 */
import type { Dataset } from '../../datasets/types.js';
import type { HybridMfOptions } from '../hybrid/options.js';
import { trainHybridMf } from '../hybrid/train.js';

export interface HybridBackbone {
  /** k + 1 */
  d: number;
  posts: Float32Array;
  users: Float32Array;
  content: Float32Array;
  info: Record<string, unknown>;
}

export function trainHybridBackbone(ds: Dataset, signal: number, options: Partial<HybridMfOptions>): HybridBackbone {
  const idx: number[] = [];
  for (let i = 0; i < ds.interactions.length; i++) if (ds.interactions.signal[i] === signal) idx.push(i);
  const m = trainHybridMf(ds, Int32Array.from(idx), options);
  const k = m.d;
  const d = k + 1;
  const n = ds.items.ids.length;
  const fold = (vectors: Float32Array, bias: Float32Array) => {
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      out.set(vectors.subarray(i * k, (i + 1) * k), i * d);
      out[i * d + k] = bias[i];
    }
    return out;
  };
  const users = new Float32Array(ds.userIds.length * d);
  for (let u = 0; u < ds.userIds.length; u++) {
    users.set(m.userVectors.subarray(u * k, (u + 1) * k), u * d);
    users[u * d + k] = 1;
  }
  return { d, posts: fold(m.itemVectors, m.itemBias), users, content: fold(m.contentVectors, m.contentBias), info: m.info };
}
