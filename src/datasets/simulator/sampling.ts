/** Discrete sampling helpers for the simulator: Zipf weights, Vose alias tables, prefix-sum search, stream seeds. */
import { Rng } from '../../lib/random.js';

/** Zipf weights w_r = 1 / (r + 1)^s for ranks r = 0..n-1 (s = 0 is uniform). */
export function zipfWeights(n: number, s: number): Float64Array {
  const w = new Float64Array(n);
  for (let r = 0; r < n; r++) w[r] = 1 / (r + 1) ** s;
  return w;
}

/** O(1) sampling from fixed weights (Vose's alias method). */
export class AliasTable {
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError('AliasTable needs at least one weight');
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weights[i];
    if (!(sum > 0)) throw new RangeError('AliasTable weights must have a positive sum');
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = Float64Array.from(weights, (w) => (w * n) / sum);
    const small: number[] = [];
    const large: number[] = [];
    scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large[large.length - 1];
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] -= 1 - scaled[s];
      if (scaled[l] < 1) small.push(large.pop()!);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1;
  }

  sample(rng: Rng): number {
    const n = this.prob.length;
    const u = rng.next() * n;
    const i = Math.floor(u);
    return u - i < this.prob[i] ? i : this.alias[i];
  }
}

/** Index i in [0, n) with cum[i-1] <= x < cum[i] (cum ascending inclusive prefix sums). */
export function searchPrefix(cum: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** An independent generator per named sub-stream, so that changing one stage (say feature dims) leaves the others. */
export function streamRng(seed: number, name: string): Rng {
  let h = Math.trunc(seed) | 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return new Rng(h ^ 0x2545f491);
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Standard logistic noise: sigmoid^-1 of a uniform. */
export function logistic(rng: Rng): number {
  let u = rng.next();
  while (u === 0) u = rng.next();
  return Math.log(u / (1 - u));
}

/** Intercept a with mean(sigmoid(a + x_i) * w_i) / mean(w_i) = target, by bisection (the mean is increasing in a). */
export function calibrateIntercept(x: Float64Array, target: number, weights?: Float64Array): number {
  if (!(target > 0 && target < 1)) throw new RangeError(`target rate must be in (0, 1), got ${target}`);
  let lo = -40;
  let hi = 40;
  let wsum = 0;
  for (let i = 0; i < x.length; i++) wsum += weights ? weights[i] : 1;
  for (let iter = 0; iter < 60; iter++) {
    const a = (lo + hi) / 2;
    let s = 0;
    for (let i = 0; i < x.length; i++) s += sigmoid(a + x[i]) * (weights ? weights[i] : 1);
    if (s / wsum < target) lo = a;
    else hi = a;
  }
  return (lo + hi) / 2;
}

/** The q-quantile (0..1) of a sample (sorted copy, linear interpolation). */
export function quantile(sample: Float64Array, q: number): number {
  const s = Float64Array.from(sample).sort();
  const pos = Math.min(s.length - 1, Math.max(0, q * (s.length - 1)));
  const i = Math.floor(pos);
  return i + 1 < s.length ? s[i] + (s[i + 1] - s[i]) * (pos - i) : s[i];
}
