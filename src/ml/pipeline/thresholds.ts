/**
 * The maturity threshold M per (signal, media type), estimated on the training posts only (paper 3.1.1: "we evaluate
 * the running cosine distance across view counts ... and use this as the threshold (M)").
 *
 * Glossary
 *   curve      the served backbone's refit curve when its vectors are given (the hybrid: src/ml/maturity/refit.ts),
 *              else the FFM's online replay (the paper's, src/ml/maturity/replay.ts)
 *   views(p)   logged interactions of post p in the signal (label 1 or an explicit 0): the replay's unit
 *   d          snapshot interval of the replay; auto: max(1, round(q95(views) / curvePoints))
 *   M_curve    the curve's own threshold (findThreshold: every later usable point below epsilon), or null
 *   M          the threshold used: fixedThreshold if set; else M_curve; else, for a refit curve, the first n after
 *              which dist stays <= 0.5 (source 'half-way'); else the median of views (source 'median');
 *              lowered to the view count that keeps `minMaturePosts` posts when fewer would be mature (source 'capped')
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { signalIndex } from '../ffm/dataset.js';
import { findThreshold, type MaturityCurve } from '../maturity/curve.js';
import { refitCurve } from '../maturity/refit.js';
import { maturityCurve } from '../maturity/replay.js';
import type { PipelineOptions } from './options.js';
import { interactionsOfItems, itemMask, quantileOf, viewCounts, viewsKeeping, withInteractions } from './subset.js';

export type ThresholdSource = 'curve' | 'floor' | 'fixed' | 'half-way' | 'median' | 'capped';

/** A refit curve that never settles below epsilon: M is where the vector has come half of its way (dist <= 0.5). */
export const HALF_WAY = 0.5;

export interface SignalThreshold {
  /** `signal/mediaType`. */
  readonly key: string;
  readonly signal: string;
  readonly mediaType: MediaType;
  /** The replay curve (Figure 1): view counts n = d, 2d, ..., mean cosine distance, posts averaged; empty when fixed. */
  readonly views: number[];
  readonly distance: number[];
  readonly count: number[];
  readonly epsilon: number;
  readonly snapshotEvery: number;
  /** M read from the curve (null when it does not settle below epsilon). */
  readonly curveThreshold: number | null;
  /** M used to call a post mature (views >= M). */
  readonly threshold: number;
  readonly source: ThresholdSource;
  /** Training posts of this media type with at least one view, and those with >= M views. */
  readonly posts: number;
  readonly maturePosts: number;
}

/** The served vectors of a backbone whose curve is measured on itself (the hybrid): users, posts, and c_p. */
export interface ServedVectors {
  d: number;
  users: Float32Array;
  posts: Float32Array;
  start: Float32Array;
}

/** The FFM's online replay (the paper's curve; an FFM trained afresh on the training posts). */
function replayCurve(ds: Dataset, signal: string, mediaType: MediaType, views: Int32Array, seen: Uint8Array, o: PipelineOptions): MaturityCurve {
  const maxViews = quantileOf(views, seen, 1);
  const doubling = (o.maturity.compare ?? 'consecutive') === 'doubling';
  const snapshotEvery = doubling ? 1 : o.maturity.snapshotEvery || Math.max(1, Math.round(quantileOf(views, seen, 0.95) / o.curvePoints));
  const part = withInteractions(ds, interactionsOfItems(ds, seen));
  return maturityCurve(part, signal, mediaType, {
    maturity: { ...o.maturity, snapshotEvery, maxViews: Math.max(snapshotEvery, o.maturity.maxViews ?? maxViews) },
    ffm: { ...o.ffm, seed: o.seed },
    contextFields: o.contextFields,
    negatives: o.negatives,
  });
}

/** The refit curve on the served backbone (src/ml/maturity/refit.ts): each seen post's positive users in time order. */
function servedCurve(ds: Dataset, s: number, key: string, signal: string, mediaType: MediaType, seen: Uint8Array, served: ServedVectors, o: PipelineOptions): MaturityCurve {
  const t = ds.interactions;
  const order = Int32Array.from({ length: t.length }, (_, i) => i).filter((i) => t.signal[i] === s && t.label[i] === 1 && seen[t.item[i]] === 1);
  order.sort((a, b) => t.time[a] - t.time[b] || a - b);
  const lists = new Map<number, number[]>();
  for (const i of order) {
    const l = lists.get(t.item[i]);
    if (l) l.push(t.user[i]);
    else lists.set(t.item[i], [t.user[i]]);
  }
  const positives = new Map([...lists].map(([p, u]) => [p, Int32Array.from(u)]));
  const pool = Int32Array.from({ length: seen.length }, (_, i) => i).filter((i) => seen[i] === 1);
  return refitCurve({ key, signal, mediaType, d: served.d, users: served.users, posts: served.posts, start: served.start, positives, pool }, { ...o.refit, seed: o.seed });
}

/**
 * M for one signal and media type. `ds` is the training part of the log (the pipeline's dataset); `trainItems` the
 * posts that may be used (null = all). Returns null when no training post of this media type has a view.
 */
export function estimateThreshold(ds: Dataset, signal: string, mediaType: MediaType, o: PipelineOptions, served?: ServedVectors): SignalThreshold | null {
  const s = signalIndex(ds, signal);
  const mask = itemMask(ds, mediaType, o.trainItems);
  const views = viewCounts(ds, s);
  const seen = new Uint8Array(mask.length);
  let posts = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] && views[i] > 0) (seen[i] = 1), posts++;
  if (posts === 0) return null;
  const key = `${signal}/${mediaType}`;
  const matureAt = (m: number) => {
    let n = 0;
    for (let i = 0; i < mask.length; i++) if (seen[i] && views[i] >= m) n++;
    return n;
  };
  const cap = (m: number, source: ThresholdSource): { threshold: number; source: ThresholdSource } => {
    const want = Math.min(o.minMaturePosts, posts);
    if (matureAt(m) >= want) return { threshold: m, source };
    return { threshold: Math.max(1, viewsKeeping(views, seen, want)), source: 'capped' };
  };
  const epsilon = o.maturity.epsilon ?? 0.01;
  if (o.fixedThreshold !== null) {
    const t = cap(o.fixedThreshold, 'fixed');
    return { key, signal, mediaType, views: [], distance: [], count: [], epsilon, snapshotEvery: 0, curveThreshold: null, ...t, posts, maturePosts: matureAt(t.threshold) };
  }
  const curve = served ? servedCurve(ds, s, key, signal, mediaType, seen, served, o) : replayCurve(ds, signal, mediaType, views, seen, o);
  const floor = o.minThreshold;
  // The refit curve falls smoothly while audiences keep growing; where it never settles, half of the way is the
  // documented fallback (docs/memer.md), and the median of views after that.
  const half = curve.threshold === null && curve.compare === 'refit' ? findThreshold(curve.views, curve.distance, curve.count, HALF_WAY, curve.minPosts) : null;
  const t = curve.threshold !== null
    ? cap(Math.max(floor, curve.threshold), curve.threshold < floor ? 'floor' : 'curve')
    : half !== null
      ? cap(Math.max(floor, half), 'half-way')
      : cap(Math.max(floor, 1, quantileOf(views, seen, 0.5)), 'median');
  return {
    key, signal, mediaType,
    views: curve.views, distance: curve.distance, count: curve.count, epsilon: curve.epsilon, snapshotEvery: curve.snapshotEvery,
    curveThreshold: curve.threshold, ...t, posts, maturePosts: matureAt(t.threshold),
  };
}
