/**
 * Figure 1 by replay: one pass over a signal's interactions in time order with online FFM updates (the kernel of
 * ../ffm, from a fresh initialisation), snapshotting each post's embedding every d views and averaging the cosine
 * distance between consecutive snapshots by view count (see curve.ts for the symbols).
 *
 * A "view" is a logged interaction of the post in this signal (label 1 or an explicit 0); sampled negatives update
 * the post's vectors like any row but do not count as views.
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';
import { fieldIndex } from '../ffm/data.js';
import { buildSignalRows, contextFields, selectInteractions, signalIndex, type NegativeSampling } from '../ffm/dataset.js';
import { FfmError } from '../ffm/errors.js';
import { trainSpan } from '../ffm/kernel.js';
import { biasBaseOf, initWeights } from '../ffm/model.js';
import { ffmParams, type FfmParams } from '../ffm/params.js';
import { cosineDistance, findThreshold, type MaturityCurve } from './curve.js';

export interface MaturityParams {
  /**
   * Which two embeddings of a post a curve point compares (curve.ts):
   *   consecutive  v(n - d) and v(n), n = d, 2d, ... (the paper's "t and t - 1"); dist scales with d, so M depends on
   *                the snapshot interval
   *   doubling     v(n / 2) and v(n), n = 2, 4, 6, 8, 12, 16, 24, ... (how far the vector still moves while its
   *                views double); independent of any interval, the same scale for dense and sparse signals
   */
  readonly compare: 'consecutive' | 'doubling';
  /** d: views between snapshots (consecutive only). */
  readonly snapshotEvery: number;
  /** Largest view count on the curve; posts are followed up to here. */
  readonly maxViews: number;
  /** Distance below which an embedding counts as stable. */
  readonly epsilon: number;
  /** Curve points averaged over fewer posts than this are shown but not used to find M. */
  readonly minPosts: number;
}

export const DEFAULT_MATURITY_PARAMS: MaturityParams = Object.freeze({
  compare: 'consecutive',
  snapshotEvery: 100,
  maxViews: 50_000,
  epsilon: 0.01,
  minPosts: 5,
});

export interface MaturityOptions {
  readonly maturity?: Partial<MaturityParams>;
  /** FFM hyper-parameters of the online model (epochs, threads, shuffle and patience do not apply). */
  readonly ffm?: Partial<FfmParams>;
  readonly contextFields?: readonly string[];
  readonly negatives?: Partial<NegativeSampling>;
}

function maturityParams(p: Partial<MaturityParams> = {}): MaturityParams {
  const o = { ...DEFAULT_MATURITY_PARAMS, ...p };
  if (o.compare !== 'consecutive' && o.compare !== 'doubling') throw new FfmError('BAD_PARAM', `compare must be consecutive or doubling, got ${String(o.compare)}`);
  if (!(Number.isInteger(o.snapshotEvery) && o.snapshotEvery >= 1)) throw new FfmError('BAD_PARAM', `snapshotEvery must be an integer >= 1, got ${o.snapshotEvery}`);
  if (!(Number.isInteger(o.maxViews) && o.maxViews >= o.snapshotEvery)) throw new FfmError('BAD_PARAM', `maxViews must be an integer >= snapshotEvery, got ${o.maxViews}`);
  if (!(o.epsilon > 0)) throw new FfmError('BAD_PARAM', `epsilon must be > 0, got ${o.epsilon}`);
  if (!(Number.isInteger(o.minPosts) && o.minPosts >= 1)) throw new FfmError('BAD_PARAM', `minPosts must be an integer >= 1, got ${o.minPosts}`);
  return Object.freeze(o);
}

/** The maturity curve of one signal (and media type, or all posts when null). */
export function maturityCurve(ds: Dataset, signal: string, mediaType: MediaType | null, options: MaturityOptions = {}): MaturityCurve {
  const mp = maturityParams(options.maturity);
  const fp = ffmParams(options.ffm);
  const { data, source } = buildSignalRows(ds, {
    signal,
    mediaType,
    contextFields: contextFields(options.contextFields),
    negatives: options.negatives,
    seed: fp.seed,
    order: 'time',
  });
  const W = initWeights(data.space, fp, false);
  const bias = biasBaseOf(data.space, fp);
  const m = data.space.fields.length;
  const k = fp.k;
  const userField = fieldIndex(data.space, 'user');
  const postField = fieldIndex(data.space, 'post');
  const postBase = data.space.offsets[postField];
  const posts = data.space.fields[postField].size;
  const vecAt = (p: number) => ((postBase + p) * m + userField) * 2 * k;
  const doubling = mp.compare === 'doubling';
  // The curve's x axis: n = d, 2d, ... (consecutive) or n = 2, 4, 6, 8, 12, 16, ... = 2^j and 3 * 2^j (doubling).
  const viewsAxis = doubling ? doublingGrid(mp.maxViews) : Array.from({ length: Math.floor(mp.maxViews / mp.snapshotEvery) }, (_, b) => (b + 1) * mp.snapshotEvery);
  const binOf = new Map(viewsAxis.map((n, b) => [n, b]));
  const bins = viewsAxis.length;
  const sum = new Float64Array(bins);
  const count = new Int32Array(bins);
  const views = new Int32Array(posts);
  // consecutive: one slot per post, the previous snapshot (first the initial vector). doubling: two slots, v(2^j)
  // and v(3 * 2^j) (the last of each chain), so v(n / 2) is at hand when the post reaches n.
  const slots = doubling ? 2 : 1;
  const snap = new Float32Array(posts * k * slots);
  if (!doubling) for (let p = 0; p < posts; p++) snap.set(W.subarray(vecAt(p), vecAt(p) + k), p * k);

  for (let i = 0; i < data.rows; i++) {
    trainSpan(W, data, data.maxRowLength, i, i + 1, m, k, fp.eta, fp.lambda, fp.normalize, bias, fp.biasLambda);
    if (source[i] < 0) continue;
    const p = ds.interactions.item[source[i]];
    const n = ++views[p];
    if (n > mp.maxViews) continue;
    const at = vecAt(p);
    if (doubling) {
      // n = 2^j uses slot 0, n = 3 * 2^j slot 1; other view counts take no snapshot.
      const slot = (n & (n - 1)) === 0 ? 0 : n % 3 === 0 && ((n / 3) & (n / 3 - 1)) === 0 ? 1 : -1;
      if (slot < 0) continue;
      const o = (p * slots + slot) * k;
      const b = binOf.get(n);
      if (b !== undefined) {
        const dist = cosineDistance(snap, o, W, at, k);
        if (Number.isFinite(dist)) (sum[b] += dist), count[b]++;
      }
      snap.set(W.subarray(at, at + k), o);
      continue;
    }
    if (n % mp.snapshotEvery !== 0) continue;
    const dist = cosineDistance(snap, p * k, W, at, k);
    if (Number.isFinite(dist)) {
      sum[n / mp.snapshotEvery - 1] += dist;
      count[n / mp.snapshotEvery - 1]++;
    }
    snap.set(W.subarray(at, at + k), p * k);
  }
  const distance = Array.from(sum, (s, b) => (count[b] > 0 ? s / count[b] : NaN));
  const counts = Array.from(count);
  // Trim the empty tail (no post reached those view counts).
  let last = bins;
  while (last > 0 && counts[last - 1] === 0) last--;
  const key = mediaType === null ? signal : `${signal}/${mediaType}`;
  return {
    key,
    signal,
    mediaType,
    compare: mp.compare,
    snapshotEvery: doubling ? 0 : mp.snapshotEvery,
    views: viewsAxis.slice(0, last),
    distance: distance.slice(0, last),
    count: counts.slice(0, last),
    epsilon: mp.epsilon,
    minPosts: mp.minPosts,
    threshold: findThreshold(viewsAxis.slice(0, last), distance.slice(0, last), counts.slice(0, last), mp.epsilon, mp.minPosts),
  };
}

/** The doubling curve's view counts up to maxViews: 2, 4, 6, 8, 12, 16, 24, ... (2^j and 3 * 2^j, j >= 1). */
export function doublingGrid(maxViews: number): number[] {
  const out: number[] = [];
  for (let a = 2; a <= maxViews; a *= 2) {
    out.push(a);
    if (a >= 4 && (3 * a) / 2 <= maxViews) out.push((3 * a) / 2);
  }
  return out.sort((x, y) => x - y);
}

/** One curve per signal, or per (signal, media type) when byMediaType; groups without interactions are skipped. */
export function maturityCurves(ds: Dataset, options: MaturityOptions & { signals?: readonly string[]; byMediaType?: boolean } = {}): MaturityCurve[] {
  const signals = options.signals ?? ds.signals;
  for (const s of signals) signalIndex(ds, s);
  const out: MaturityCurve[] = [];
  for (const signal of signals) {
    for (const mediaType of options.byMediaType ? MEDIA_TYPES : [null]) {
      try {
        selectInteractions(ds, signal, mediaType);
      } catch (e) {
        if (e instanceof FfmError && e.code === 'EMPTY_DATA') continue;
        throw e;
      }
      out.push(maturityCurve(ds, signal, mediaType, options));
    }
  }
  if (out.length === 0) throw new FfmError('EMPTY_DATA', `no interactions for signals ${signals.join(', ')}`);
  return out;
}
