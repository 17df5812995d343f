/**
 * HYBRID_MF parameters and scoring (LightFM, Kula 2015; equations in docs/hybrid-mf.md).
 *
 *   q_i    = sum_s x_is V_s + W^T x_i                     item vector (s over the item's tags and id feature)
 *   b_i    = sum_s x_is vb_s + wb . x_i                   item bias
 *   s(u,i) = p_u . q_i + b_i                              score; a user bias would cancel in every pairwise loss
 *                                                          (it gets no gradient), so there is none
 *
 * Glossary
 *   V, vb  sparse-feature embeddings (count x d) and biases: tags first, then one id feature per warm item
 *   W, wb  the dense map (D x d) and bias weights (D) on the content vector x_i (features.ts)
 *   P      user embeddings (users x d)
 *   G*     Adagrad accumulators of the squared gradients, one per parameter, starting at 1 (LightFM)
 */
import { Rng } from '../../lib/random.js';
import type { ItemFeatures } from './features.js';

export interface HybridParams {
  d: number;
  users: number;
  /** Sparse feature count and dense width D. */
  sparse: number;
  dense: number;
  P: Float32Array;
  V: Float32Array;
  vb: Float32Array;
  W: Float32Array;
  wb: Float32Array;
  GP: Float32Array;
  GV: Float32Array;
  Gvb: Float32Array;
  GW: Float32Array;
  Gwb: Float32Array;
}

/** Embeddings ~ U(-0.5, 0.5) * initScale / d (LightFM's init), biases 0, accumulators 1. */
export function initParams(users: number, sparse: number, dense: number, d: number, initScale: number, seed: number): HybridParams {
  const rng = new Rng(seed);
  const emb = (n: number) => {
    const a = new Float32Array(n * d);
    for (let k = 0; k < a.length; k++) a[k] = ((rng.next() - 0.5) * initScale) / d;
    return a;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  return {
    d, users, sparse, dense,
    P: emb(users), V: emb(sparse), vb: new Float32Array(sparse), W: emb(dense), wb: new Float32Array(dense),
    GP: ones(users * d), GV: ones(sparse * d), Gvb: ones(sparse), GW: ones(dense * d), Gwb: ones(dense),
  };
}

export function copyParams(p: HybridParams): HybridParams {
  return {
    ...p, P: p.P.slice(), V: p.V.slice(), vb: p.vb.slice(), W: p.W.slice(), wb: p.wb.slice(),
    GP: p.GP.slice(), GV: p.GV.slice(), Gvb: p.Gvb.slice(), GW: p.GW.slice(), Gwb: p.Gwb.slice(),
  };
}

/** q_i into `out` (length d); returns b_i. withIds false: the tags and content part only (what a cold item gets). */
export function itemVector(p: HybridParams, f: ItemFeatures, i: number, out: Float64Array, withIds = true): number {
  const d = p.d;
  const D = f.dense.dim;
  out.fill(0);
  let b = 0;
  const s = f.sparse;
  for (let a = s.offsets[i]; a < s.offsets[i + 1]; a++) {
    if (!withIds && s.ids[a] >= s.tagCount) continue;
    const v = s.values[a];
    const base = s.ids[a] * d;
    for (let j = 0; j < d; j++) out[j] += v * p.V[base + j];
    b += v * p.vb[s.ids[a]];
  }
  const x = f.dense.data;
  const xi = i * D;
  for (let k = 0; k < D; k++) {
    const v = x[xi + k];
    if (v === 0) continue;
    const base = k * d;
    for (let j = 0; j < d; j++) out[j] += v * p.W[base + j];
    b += v * p.wb[k];
  }
  return b;
}

/** q_i and b_i of every item (items x d, items). */
export function itemVectors(p: HybridParams, f: ItemFeatures, only?: ArrayLike<number> | null, withIds = true): { vectors: Float32Array; bias: Float32Array } {
  const d = p.d;
  const vectors = new Float32Array(f.items * d);
  const bias = new Float32Array(f.items);
  const q = new Float64Array(d);
  const each = (i: number) => {
    bias[i] = itemVector(p, f, i, q, withIds);
    for (let j = 0; j < d; j++) vectors[i * d + j] = q[j];
  };
  if (only) for (let k = 0; k < only.length; k++) each(only[k]);
  else for (let i = 0; i < f.items; i++) each(i);
  return { vectors, bias };
}

/** s(u,i) from precomputed item vectors and biases. */
export function scorePairs(d: number, users: Float32Array, items: Float32Array, bias: Float32Array, u: Int32Array, i: Int32Array): Float64Array {
  if (u.length !== i.length) throw new RangeError(`HYBRID_MF score: ${u.length} users but ${i.length} items`);
  const out = new Float64Array(u.length);
  for (let r = 0; r < u.length; r++) {
    const a = u[r] * d;
    const b = i[r] * d;
    let s = bias[i[r]];
    for (let j = 0; j < d; j++) s += users[a + j] * items[b + j];
    out[r] = s;
  }
  return out;
}

export interface HybridMfModel {
  d: number;
  /** users x d (p_u). */
  userVectors: Float32Array;
  /** items x d (q_i): for an item without training positives, from its tags and content only. */
  itemVectors: Float32Array;
  /** items (b_i). */
  itemBias: Float32Array;
  /** items x d and items: q_i and b_i from tags and content only (no id feature), every item as if it were cold. */
  contentVectors: Float32Array;
  contentBias: Float32Array;
  /** s(u,i) for each (users[k], items[k]); items may be cold (no id feature: tags and content only). */
  score(users: Int32Array, items: Int32Array): Float64Array;
  /** What was trained: loss, epochs run, best epoch, validation score per epoch, seconds, feature blocks, options. */
  info: Record<string, unknown>;
}

export function hybridMfModel(p: HybridParams, f: ItemFeatures, info: Record<string, unknown>): HybridMfModel {
  const { vectors, bias } = itemVectors(p, f);
  const content = itemVectors(p, f, null, false);
  const users = p.P;
  const nItems = f.items;
  const nUsers = p.users;
  return {
    d: p.d,
    userVectors: users,
    itemVectors: vectors,
    itemBias: bias,
    contentVectors: content.vectors,
    contentBias: content.bias,
    score(u: Int32Array, i: Int32Array): Float64Array {
      for (let r = 0; r < u.length; r++) {
        if (!(u[r] >= 0 && u[r] < nUsers) || !(i[r] >= 0 && i[r] < nItems)) throw new RangeError(`HYBRID_MF score: row ${r} has user ${u[r]} / item ${i[r]} outside ${nUsers} users / ${nItems} items`);
      }
      return scorePairs(p.d, users, vectors, bias, u, i);
    },
    info,
  };
}
