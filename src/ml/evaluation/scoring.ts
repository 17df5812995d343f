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
import { buildSignalRows, type NegativeSampling } from '../ffm/dataset.js';
import { auc, f1AtThreshold, relaImpr } from '../metrics.js';
import { rowPairs } from '../pipeline/memer-model.js';

export interface EvalRows {
  length: number;
  user: Int32Array;
  post: Int32Array;
  label: Uint8Array;
  positives: number;
}

/** Rows of the interactions `indices` (all of one signal), with sampled negatives for positive-only signals. */
export function evalRows(ds: Dataset, signal: string, indices: Int32Array, negatives: Partial<NegativeSampling>, seed: number): EvalRows | null {
  if (indices.length === 0) return null;
  const rows = buildSignalRows(ds, { signal, interactions: indices, negatives, seed, order: 'given' });
  const { user, post } = rowPairs(rows.data);
  let positives = 0;
  for (let i = 0; i < rows.data.rows; i++) positives += rows.data.labels[i];
  if (positives === 0 || positives === rows.data.rows) return null;
  return { length: rows.data.rows, user, post, label: rows.data.labels, positives };
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
