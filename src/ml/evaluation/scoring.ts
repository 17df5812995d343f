/**
 * Scored rows and metrics. A row is (user u, post p, label y); a method's score is S = v_u . x_p (eq. 8, 13) with its
 * post embedding x_p and the FFM user embedding v_u.
 *
 * Glossary
 *   rows         logged interactions of the signal (label 1, or an explicit 0); for a signal logged as positives
 *                only, each positive gets sampled negatives (same user, another evaluated post, by popularity), as
 *                the FFM's training rows (src/ml/ffm/dataset.ts)
 *   AUC          tie-aware ROC AUC over all rows (src/ml/metrics.ts)
 *   F1           at the break-even threshold t = the P-th largest score (P positives): rows with S >= t are predicted
 *                positive, so precision = recall = F1 when there are no ties at t
 *   RelaImpr     (AUC - 0.5) / (AUC_MATURE - 0.5) * 100 (paper 3.1.2, ref [18])
 */
import type { Dataset } from '../../datasets/types.js';
import { buildSignalRows, positivePairs, type NegativeSampling } from '../ffm/dataset.js';
import { auc, f1AtThreshold, relaImpr } from '../metrics.js';
import { rowPairs } from '../pipeline/memer-model.js';
import { Rng } from '../../lib/random.js';

export interface EvalRows {
  length: number;
  user: Int32Array;
  post: Int32Array;
  label: Uint8Array;
  positives: number;
  /** The post of the logged interaction each row comes from (a sampled negative takes its positive's post): the unit of the bootstrap. */
  group: Int32Array;
}

/**
 * A predicate "user u has a positive (label 1) interaction with post p in `signal`" over the whole log `ds`: a sampled
 * negative the user did act on is a false negative, and scoring it as a negative penalises the methods that rank that
 * user's real preferences highest (MATURE most, since its backbone may have seen the pair).
 */
export const knownPositives = positivePairs;

/**
 * Rows of the interactions `indices` (all of one signal), with sampled negatives for positive-only signals; a sampled
 * negative is never a post the user has a positive for in this signal (anywhere in `ds`) unless `excludePositives` is
 * false.
 */
export function evalRows(ds: Dataset, signal: string, indices: Int32Array, negatives: Partial<NegativeSampling>, seed: number, excludePositives = true): EvalRows | null {
  if (indices.length === 0) return null;
  const rows = buildSignalRows(ds, { signal, interactions: indices, negatives: { ...negatives, exclude: excludePositives ? 'positives' : 'none' }, seed, order: 'given' });
  const { user, post } = rowPairs(rows.data);
  let positives = 0;
  for (let i = 0; i < rows.data.rows; i++) positives += rows.data.labels[i];
  if (positives === 0 || positives === rows.data.rows) return null;
  const group = new Int32Array(rows.data.rows);
  for (let i = 0; i < rows.data.rows; i++) group[i] = rows.source[i] >= 0 || i === 0 ? post[i] : group[i - 1];
  return { length: rows.data.rows, user, post, label: rows.data.labels, positives, group };
}

/** S = v_u . x_p per row (posts: items x d, users: users x d). */
export function scoreRows(rows: EvalRows, users: Float32Array, posts: Float32Array, d: number): Float64Array {
  const out = new Float64Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const u = rows.user[r] * d;
    const p = rows.post[r] * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += users[u + j] * posts[p + j];
    out[r] = s;
  }
  return out;
}

export interface Metrics {
  auc: number;
  f1: number;
  f1Threshold: number;
}

/** AUC and break-even F1 of `scores` on `labels` (optionally only the rows in `subset`). */
export function metricsOf(scores: Float64Array, labels: Uint8Array, subset?: Int32Array): Metrics {
  const s = subset ? Float64Array.from(subset, (r) => scores[r]) : scores;
  const y = subset ? Uint8Array.from(subset, (r) => labels[r]) : labels;
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  if (positives === 0 || positives === y.length) return { auc: NaN, f1: NaN, f1Threshold: NaN };
  const sorted = Float64Array.from(s).sort();
  const t = sorted[sorted.length - positives];
  const f = f1AtThreshold(s, y, t);
  return { auc: auc(s, y), f1: f.f1, f1Threshold: t };
}

/** RelaImpr, or null where it is undefined: no mature reference, or a mature AUC not above 0.5 (no lift to compare with). */
export function relaImprOf(aucModel: number, aucMature: number | null): number | null {
  if (aucMature === null || !Number.isFinite(aucMature) || !(aucMature > 0.5) || !Number.isFinite(aucModel)) return null;
  const r = relaImpr(aucModel, aucMature);
  return Number.isFinite(r) ? r : null;
}

/** Rows grouped by the tags of their post: the `top` tags with the most rows, each with its row indices. */
export function rowsByTag(ds: Dataset, rows: EvalRows, top: number): { tag: string; rows: Int32Array }[] {
  const T = ds.items.tagNames.length;
  const lists: number[][] = Array.from({ length: T }, () => []);
  for (let r = 0; r < rows.length; r++) {
    const p = rows.post[r];
    for (let a = ds.items.tagOffsets[p]; a < ds.items.tagOffsets[p + 1]; a++) lists[ds.items.tagIds[a]].push(r);
  }
  return lists
    .map((l, t) => ({ tag: ds.items.tagNames[t], rows: Int32Array.from(l) }))
    .filter((g) => g.rows.length > 0)
    .sort((a, b) => b.rows.length - a.rows.length)
    .slice(0, top);
}

/** Dense post index per row (0..posts-1, in first-seen order of rows.group) and the number of posts: the bootstrap unit. */
export function postIndex(rows: EvalRows): { of: Int32Array; posts: number } {
  const ids = new Map<number, number>();
  const of = Int32Array.from(rows.group, (g) => {
    let k = ids.get(g);
    if (k === undefined) ids.set(g, (k = ids.size));
    return k;
  });
  return { of, posts: ids.size };
}

/**
 * Percentile bootstrap interval of RelaImpr = (AUC(model) - 0.5) / (AUC(mature) - 0.5) * 100, resampling the posts
 * (`rows.group`) with replacement, each with all of its rows, and scoring model and mature on the same resample
 * (rows of one post share its embedding, so posts, not rows, are the independent unit). Resamples where either AUC is
 * undefined or the mature AUC is <= 0.5 count as RelaImpr -Infinity (no lift to compare with), so they pull the lower
 * bound down rather than vanish. null when fewer than two posts.
 */
export function bootstrapRelaImpr(model: Float64Array, mature: Float64Array, rows: EvalRows, level = 0.95, resamples = 200, seed = 1): [number, number] | null {
  const { of: groupOf, posts: G } = postIndex(rows);
  if (G < 2) return null;
  const start = new Int32Array(G + 1);
  for (const g of groupOf) start[g + 1]++;
  for (let g = 0; g < G; g++) start[g + 1] += start[g];
  const members = new Int32Array(rows.length);
  const fill = start.slice(0, G);
  groupOf.forEach((g, r) => (members[fill[g]++] = r));
  const rng = new Rng(seed);
  const out: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const pick: number[] = [];
    for (let k = 0; k < G; k++) {
      const g = rng.int(G);
      for (let a = start[g]; a < start[g + 1]; a++) pick.push(members[a]);
    }
    const y = Uint8Array.from(pick, (r) => rows.label[r]);
    const am = auc(Float64Array.from(pick, (r) => model[r]), y);
    const aM = auc(Float64Array.from(pick, (r) => mature[r]), y);
    out.push(relaImprOf(am, aM) ?? -Infinity);
  }
  out.sort((a, b) => a - b);
  const q = (p: number) => out[Math.min(out.length - 1, Math.max(0, Math.floor(p * out.length)))];
  return [q((1 - level) / 2), q(1 - (1 - level) / 2)];
}
