/**
 * Synthetic FFM rows with planted factors, for tests and the benchmark: users and posts get hidden d-dimensional
 * vectors u, p; hour h adds a per-hour bias; the label is 1 with probability sigmoid(scale * u . p + b_h + bias).
 * User and post ids are drawn with Zipf-like popularity (rank^-skew), as on a social feed.
 *
 * Glossary
 *   d          planted dimension (small; the FFM's k can be larger)
 *   u_i, p_j   planted user / post vectors, entries N(0, 1/d)
 *   b_h        planted hour bias, N(0, 0.5^2)
 *   skew       Zipf exponent of user and post popularity (0 = uniform)
 */
import { Rng } from '../../lib/random.js';
import { featureSpace, type FfmData } from './data.js';

export interface SyntheticOptions {
  /** Rows to generate. */
  readonly rows: number;
  readonly users: number;
  readonly posts: number;
  /** Add an hour-of-day field (24 features) as a third field. */
  readonly hourField: boolean;
  /** Planted dimension d. */
  readonly dim: number;
  /** Multiplier on u . p inside the sigmoid (signal strength). */
  readonly scale: number;
  /** Global logit offset (controls the positive rate). */
  readonly bias: number;
  /** Zipf exponent for drawing users and posts. */
  readonly skew: number;
  readonly seed: number;
}

export const DEFAULT_SYNTHETIC: SyntheticOptions = Object.freeze({
  rows: 100_000,
  users: 2_000,
  posts: 500,
  hourField: true,
  dim: 4,
  scale: 4,
  bias: 0,
  skew: 0.8,
  seed: 1,
});

export interface SyntheticSet {
  data: FfmData;
  /** sigmoid of the planted logit for each row (the Bayes-optimal score). */
  truth: Float32Array;
  userVectors: Float32Array;
  postVectors: Float32Array;
}

/** Cumulative Zipf weights, sampled by binary search. */
function zipfSampler(n: number, skew: number, rng: Rng): () => number {
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) cdf[i] = acc += 1 / Math.pow(i + 1, skew);
  // Shuffle which id gets which rank so popularity is not tied to the id order.
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(ids);
  return () => {
    const u = rng.next() * acc;
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return ids[lo];
  };
}

export function syntheticFfmSet(options: Partial<SyntheticOptions> = {}): SyntheticSet {
  const o = { ...DEFAULT_SYNTHETIC, ...options };
  const rng = new Rng(o.seed);
  const d = o.dim;
  const gauss = (n: number, sd: number) => Float32Array.from({ length: n }, () => rng.gaussian() * sd);
  const userVectors = gauss(o.users * d, 1 / Math.sqrt(d));
  const postVectors = gauss(o.posts * d, 1 / Math.sqrt(d));
  const hourBias = gauss(24, 0.5);
  const fields = [{ name: 'user', size: o.users }, { name: 'post', size: o.posts }, ...(o.hourField ? [{ name: 'hour', size: 24 }] : [])];
  const space = featureSpace(fields);
  const m = fields.length;
  const n = o.rows;
  const offsets = new Int32Array(n + 1);
  const features = new Int32Array(n * m);
  const fieldCol = new Uint8Array(n * m);
  const labels = new Uint8Array(n);
  const truth = new Float32Array(n);
  const drawUser = zipfSampler(o.users, o.skew, rng);
  const drawPost = zipfSampler(o.posts, o.skew, rng);
  for (let i = 0; i < n; i++) {
    const u = drawUser();
    const p = drawPost();
    const h = rng.int(24);
    let dot = 0;
    for (let c = 0; c < d; c++) dot += userVectors[u * d + c] * postVectors[p * d + c];
    const logit = o.scale * dot + (o.hourField ? hourBias[h] : 0) + o.bias;
    const prob = 1 / (1 + Math.exp(-logit));
    truth[i] = prob;
    labels[i] = rng.next() < prob ? 1 : 0;
    const at = i * m;
    features[at] = u;
    features[at + 1] = space.offsets[1] + p;
    fieldCol[at + 1] = 1;
    if (o.hourField) {
      features[at + 2] = space.offsets[2] + h;
      fieldCol[at + 2] = 2;
    }
    offsets[i + 1] = at + m;
  }
  return { data: { space, rows: n, maxRowLength: m, offsets, features, fields: fieldCol, values: null, labels }, truth, userVectors, postVectors };
}
