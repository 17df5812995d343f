/**
 * A small Dataset with planted preferences, timestamps and post creation times, for tests of the per-signal
 * backbones and of the maturity replay (posts are created over time and collect views after their creation).
 *
 * Glossary
 *   u_i, p_j    planted user / post vectors in R^d, entries N(0, 1/d)
 *   b_s         per-signal logit offset
 *   P(y=1)      sigmoid(scale u . p + b_s)
 *   positives-only signals log only the y = 1 events (like a Video Play log); others log both labels
 */
import type { Dataset } from '../../datasets/types.js';
import { Rng } from '../../lib/random.js';

export interface SyntheticSignal {
  readonly name: string;
  /** Only label-1 events are logged (negatives must be sampled). */
  readonly positivesOnly: boolean;
  /** Logit offset b_s. */
  readonly bias: number;
}

export interface SyntheticDatasetOptions {
  readonly users: number;
  readonly posts: number;
  /** Candidate events per signal before positives-only filtering. */
  readonly eventsPerSignal: number;
  readonly signals: readonly SyntheticSignal[];
  readonly dim: number;
  readonly scale: number;
  /** Zipf exponent of post popularity. */
  readonly skew: number;
  readonly days: number;
  readonly tags: number;
  readonly seed: number;
}

export const DEFAULT_SYNTHETIC_DATASET: SyntheticDatasetOptions = Object.freeze({
  users: 300,
  posts: 120,
  eventsPerSignal: 20_000,
  signals: [
    { name: 'play', positivesOnly: true, bias: 0 },
    { name: 'like', positivesOnly: false, bias: -1 },
  ],
  dim: 4,
  scale: 4,
  skew: 0.7,
  days: 30,
  tags: 8,
  seed: 1,
});

export function syntheticDataset(options: Partial<SyntheticDatasetOptions> = {}): Dataset {
  return plantedDataset(options).dataset;
}

/** The dataset with its planted vectors (users x d and posts x d, row-major) and the options used. */
export function plantedDataset(options: Partial<SyntheticDatasetOptions> = {}): {
  dataset: Dataset;
  userVectors: Float32Array;
  postVectors: Float32Array;
  options: SyntheticDatasetOptions;
} {
  const o = { ...DEFAULT_SYNTHETIC_DATASET, ...options };
  const rng = new Rng(o.seed);
  const d = o.dim;
  const uv = Float32Array.from({ length: o.users * d }, () => rng.gaussian() / Math.sqrt(d));
  const pv = Float32Array.from({ length: o.posts * d }, () => rng.gaussian() / Math.sqrt(d));
  const start = 1_700_000_000;
  const span = o.days * 86_400;
  const createdAt = Float64Array.from({ length: o.posts }, () => start + rng.next() * span * 0.8);
  const mediaType = Uint8Array.from({ length: o.posts }, () => (rng.bernoulli(0.5) ? 1 : 0));
  const tagOffsets = new Int32Array(o.posts + 1);
  const tagList: number[] = [];
  for (let p = 0; p < o.posts; p++) {
    const n = 1 + rng.int(3);
    const chosen = new Set<number>();
    while (chosen.size < Math.min(n, o.tags)) chosen.add(rng.int(o.tags));
    tagList.push(...[...chosen].sort((a, b) => a - b));
    tagOffsets[p + 1] = tagList.length;
  }
  const weights = Float64Array.from({ length: o.posts }, (_, p) => 1 / Math.pow(p + 1, o.skew));
  const cdf = new Float64Array(o.posts);
  weights.reduce((acc, w, i) => (cdf[i] = acc + w), 0);
  const drawPost = () => {
    const u = rng.next() * cdf[o.posts - 1];
    let lo = 0, hi = o.posts - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const user: number[] = [], item: number[] = [], signal: number[] = [], label: number[] = [], time: number[] = [];
  o.signals.forEach((s, si) => {
    for (let e = 0; e < o.eventsPerSignal; e++) {
      const u = rng.int(o.users);
      const p = drawPost();
      let dot = 0;
      for (let c = 0; c < d; c++) dot += uv[u * d + c] * pv[p * d + c];
      const y = rng.next() < 1 / (1 + Math.exp(-(o.scale * dot + s.bias))) ? 1 : 0;
      if (s.positivesOnly && y === 0) continue;
      user.push(u);
      item.push(p);
      signal.push(si);
      label.push(y);
      time.push(createdAt[p] + rng.next() * (start + span - createdAt[p]));
    }
  });
  const order = Int32Array.from(time.keys()).sort((a, b) => time[a] - time[b]);
  const pick = <T extends Int32Array | Uint8Array | Float64Array>(C: { from(x: number[]): T }, col: number[]) => C.from(Array.from(order, (i) => col[i]));
  const dataset: Dataset = {
    name: `synthetic-${o.seed}`,
    items: {
      ids: Array.from({ length: o.posts }, (_, p) => `post${p}`),
      createdAt,
      mediaType,
      tagNames: Array.from({ length: o.tags }, (_, t) => `tag${t}`),
      tagOffsets,
      tagIds: Int32Array.from(tagList),
      text: Array.from({ length: o.posts }, (_, p) => `post ${p}`),
    },
    userIds: Array.from({ length: o.users }, (_, u) => `user${u}`),
    signals: o.signals.map((s) => s.name),
    interactions: {
      length: order.length,
      user: pick(Int32Array, user),
      item: pick(Int32Array, item),
      signal: pick(Uint8Array, signal),
      label: pick(Uint8Array, label),
      time: pick(Float64Array, time),
    },
    features: {},
  };
  return { dataset, userVectors: uv, postVectors: pv, options: o };
}
