/**
 * One pairwise step of HYBRID_MF: the gradient of a pair's loss (user u, positive i, negative j), its Adagrad update.
 *
 * Both losses are functions of the margin m = s(u,i) - s(u,j) with dl/dm = -c:
 *   BPR        l = -log sigmoid(m) + R              c = sigmoid(-m)
 *   WARP       l = L(rank) * max(0, 1 - m) + R      c = L(rank) for a violating pair (1 - m > 0), L held fixed
 * and R = userAlpha/2 |p_u|^2 + itemAlpha/2 (sum_{s in S_i u S_j} (|V_s|^2 + vb_s^2) + |W|^2 + |wb|^2): L2 on what
 * the pair touches (Rendle-style; LightFM instead decays every parameter lazily each step). With
 * delta_s = x_is - x_js (merged over S_i u S_j) and dx = x_i - x_j:
 *   dl/dp_u  = -c (sum_s delta_s V_s + W^T dx) + userAlpha p_u
 *   dl/dV_s  = -c delta_s p_u + itemAlpha V_s          dl/dvb_s = -c delta_s + itemAlpha vb_s
 *   dl/dW_k  = -c dx_k p_u + itemAlpha W_k             dl/dwb_k = -c dx_k + itemAlpha wb_k
 * Adagrad: G += g^2, theta -= lr g / sqrt(G) (the updated G, so no step exceeds lr in size however large c is).
 * pairStep is the training path (fused loops); pairGradient writes the same gradient out, for checking.
 */
import type { ItemFeatures } from './features.js';
import type { HybridParams } from './model.js';

/** Scratch for one pair's step (allocated once per epoch). */
export interface PairScratch {
  /** Merged sparse features of the pair: ids[0..count) with delta_s. */
  count: number;
  ids: Int32Array;
  delta: Float64Array;
  /** sum_s delta_s V_s + W^T dx, accumulated during the step. */
  qdiff: Float64Array;
  /** dx = x_i - x_j. */
  dx: Float64Array;
}

export function pairScratch(p: HybridParams, f: ItemFeatures): PairScratch {
  let widest = 0;
  const o = f.sparse.offsets;
  for (let i = 0; i < f.items; i++) widest = Math.max(widest, o[i + 1] - o[i]);
  const cap = 2 * widest + 1;
  return { count: 0, ids: new Int32Array(cap), delta: new Float64Array(cap), qdiff: new Float64Array(p.d), dx: new Float64Array(p.dense) };
}

/** z = W p_u + wb (D): the user's weight on each dense feature, so that a dense score part is one dot product x_i . z. */
export function userDenseView(p: HybridParams, u: number, z: Float64Array): void {
  const d = p.d;
  const W = p.W;
  const P = p.P;
  const wb = p.wb;
  const pu = u * d;
  const d4 = d - (d % 4);
  for (let k = 0; k < p.dense; k++) {
    const base = k * d;
    // Four partial sums: one running sum is bound by the add latency, and this runs once per positive over D x d.
    let s0 = wb[k];
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j < d4; j += 4) {
      s0 += W[base + j] * P[pu + j];
      s1 += W[base + j + 1] * P[pu + j + 1];
      s2 += W[base + j + 2] * P[pu + j + 2];
      s3 += W[base + j + 3] * P[pu + j + 3];
    }
    for (; j < d; j++) s0 += W[base + j] * P[pu + j];
    z[k] = s0 + s1 + (s2 + s3);
  }
}

/** s(u,i) given z = userDenseView(u). */
export function pairScore(p: HybridParams, f: ItemFeatures, u: number, i: number, z: Float64Array): number {
  const d = p.d;
  const V = p.V;
  const P = p.P;
  const pu = u * d;
  const s = f.sparse;
  let score = 0;
  for (let a = s.offsets[i]; a < s.offsets[i + 1]; a++) {
    const id = s.ids[a];
    const base = id * d;
    let dot = p.vb[id];
    for (let j = 0; j < d; j++) dot += V[base + j] * P[pu + j];
    score += s.values[a] * dot;
  }
  const D = p.dense;
  const x = f.dense.data;
  const xi = i * D;
  for (let k = 0; k < D; k++) score += x[xi + k] * z[k];
  return score;
}

/** The pair's sparse features merged: delta_s = x_is - x_js over S_i u S_j. */
function mergeSparse(g: PairScratch, f: ItemFeatures, i: number, j: number): void {
  g.count = 0;
  const s = f.sparse;
  for (let side = 0; side < 2; side++) {
    const item = side === 0 ? i : j;
    const sign = side === 0 ? 1 : -1;
    for (let a = s.offsets[item]; a < s.offsets[item + 1]; a++) {
      const id = s.ids[a];
      let k = 0;
      while (k < g.count && g.ids[k] !== id) k++;
      if (k === g.count) {
        g.ids[g.count] = id;
        g.delta[g.count++] = 0;
      }
      g.delta[k] += sign * s.values[a];
    }
  }
}

/**
 * One Adagrad step on the pair's loss (module header) with dl/dm = -c. Every gradient is taken at the parameters
 * before the step: item-side parameters are read before they are written, and p_u, which their gradients use, is
 * updated last (the dense map's pass also accumulates W^T dx for p_u's gradient, so W is read once per pair).
 */
export function pairStep(p: HybridParams, f: ItemFeatures, u: number, i: number, j: number, c: number, itemAlpha: number, userAlpha: number, lr: number, g: PairScratch): void {
  const d = p.d;
  const D = p.dense;
  const pu = u * d;
  const { P, V, vb, W, wb, GP, GV, Gvb, GW, Gwb } = p;
  const qdiff = g.qdiff;
  qdiff.fill(0);
  mergeSparse(g, f, i, j);
  for (let k = 0; k < g.count; k++) {
    const id = g.ids[k];
    const cd = -c * g.delta[k];
    const dl = g.delta[k];
    const base = id * d;
    for (let a = 0; a < d; a++) {
      const v = V[base + a];
      qdiff[a] += dl * v;
      const grad = cd * P[pu + a] + itemAlpha * v;
      const acc = GV[base + a] + grad * grad;
      GV[base + a] = acc;
      V[base + a] = v - (lr * grad) / Math.sqrt(acc);
    }
    const grad = cd + itemAlpha * vb[id];
    const acc = Gvb[id] + grad * grad;
    Gvb[id] = acc;
    vb[id] -= (lr * grad) / Math.sqrt(acc);
  }
  const x = f.dense.data;
  const xi = i * D;
  const xj = j * D;
  const dxs = g.dx;
  for (let k = 0; k < D; k++) dxs[k] = x[xi + k] - x[xj + k];
  // Component-major over W (W is small and stays in cache): p_a and the W^T dx sum live in registers.
  for (let a = 0; a < d; a++) {
    const cpa = -c * P[pu + a];
    let q = 0;
    for (let k = 0, e = a; k < D; k++, e += d) {
      const w = W[e];
      const dx = dxs[k];
      q += dx * w;
      const grad = cpa * dx + itemAlpha * w;
      const acc = GW[e] + grad * grad;
      GW[e] = acc;
      W[e] = w - (lr * grad) / Math.sqrt(acc);
    }
    qdiff[a] += q;
  }
  for (let k = 0; k < D; k++) {
    const grad = -c * dxs[k] + itemAlpha * wb[k];
    const acc = Gwb[k] + grad * grad;
    Gwb[k] = acc;
    wb[k] -= (lr * grad) / Math.sqrt(acc);
  }
  for (let a = 0; a < d; a++) {
    const grad = -c * qdiff[a] + userAlpha * P[pu + a];
    const acc = GP[pu + a] + grad * grad;
    GP[pu + a] = acc;
    P[pu + a] -= (lr * grad) / Math.sqrt(acc);
  }
}

/** The pair's gradient written out (module header), parameter by parameter: the reference pairStep is checked against. */
export interface PairGradient {
  /** Sparse feature ids touched, with dl/dV_s (d each) and dl/dvb_s. */
  ids: number[];
  V: Float64Array[];
  vb: number[];
  P: Float64Array;
  W: Float64Array;
  wb: Float64Array;
}

export function pairGradient(p: HybridParams, f: ItemFeatures, u: number, i: number, j: number, c: number, itemAlpha: number, userAlpha: number): PairGradient {
  const d = p.d;
  const D = p.dense;
  const g = pairScratch(p, f);
  mergeSparse(g, f, i, j);
  const qdiff = new Float64Array(d);
  const out: PairGradient = { ids: [], V: [], vb: [], P: new Float64Array(d), W: new Float64Array(D * d), wb: new Float64Array(D) };
  for (let k = 0; k < g.count; k++) {
    const id = g.ids[k];
    const gv = new Float64Array(d);
    for (let a = 0; a < d; a++) {
      qdiff[a] += g.delta[k] * p.V[id * d + a];
      gv[a] = -c * g.delta[k] * p.P[u * d + a] + itemAlpha * p.V[id * d + a];
    }
    out.ids.push(id);
    out.V.push(gv);
    out.vb.push(-c * g.delta[k] + itemAlpha * p.vb[id]);
  }
  for (let k = 0; k < D; k++) {
    const dx = f.dense.data[i * D + k] - f.dense.data[j * D + k];
    for (let a = 0; a < d; a++) {
      qdiff[a] += dx * p.W[k * d + a];
      out.W[k * d + a] = -c * dx * p.P[u * d + a] + itemAlpha * p.W[k * d + a];
    }
    out.wb[k] = -c * dx + itemAlpha * p.wb[k];
  }
  for (let a = 0; a < d; a++) out.P[a] = -c * qdiff[a] + userAlpha * p.P[u * d + a];
  return out;
}

/** The regulariser R of the pair (module header). */
export function pairRegulariser(p: HybridParams, f: ItemFeatures, u: number, i: number, j: number, itemAlpha: number, userAlpha: number): number {
  const d = p.d;
  const seen = new Set<number>();
  const s = f.sparse;
  for (const item of [i, j]) for (let a = s.offsets[item]; a < s.offsets[item + 1]; a++) seen.add(s.ids[a]);
  let items = 0;
  for (const id of seen) {
    for (let a = 0; a < d; a++) items += p.V[id * d + a] ** 2;
    items += p.vb[id] ** 2;
  }
  for (let e = 0; e < p.W.length; e++) items += p.W[e] ** 2;
  for (let k = 0; k < p.dense; k++) items += p.wb[k] ** 2;
  let user = 0;
  for (let a = 0; a < d; a++) user += p.P[u * d + a] ** 2;
  return (itemAlpha / 2) * items + (userAlpha / 2) * user;
}

/** log(1 + e^x) without overflow. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}
