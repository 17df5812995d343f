/**
 * Offline metrics of the paper's section 3.1 (AUC, F1, RelaImpr), shared by the FFM, maturity and evaluation code.
 *
 * Glossary
 *   s_i        score of example i (any real; larger = more likely positive)
 *   y_i        label of example i, 1 positive, 0 negative
 *   P, N       number of positives, negatives
 *   AUC        P(s_pos > s_neg) + 1/2 P(s_pos = s_neg): the Mann-Whitney U statistic / (P N), ties counted half
 *   F1         2 precision recall / (precision + recall), with "predicted positive" meaning s_i >= threshold
 *   RelaImpr   (AUC_model - 0.5) / (AUC_mature - 0.5) * 100  (Yan et al. 2014, ref [18] of the paper)
 *   GAUC       sum_u n_u AUC_u / sum_u n_u over the users with at least one positive and one negative row, n_u = the
 *              user's rows: a ranking metric within each user, so per-user offsets (activity) do not count
 */

export class MetricError extends Error {
  override readonly name = 'MetricError';
  constructor(
    readonly code: 'LENGTH_MISMATCH' | 'NON_FINITE' | 'BAD_LABEL',
    message: string,
  ) {
    super(message);
  }
}

type Scores = ArrayLike<number>;
type Labels = ArrayLike<number | boolean>;

/** Checks lengths, finite scores and 0/1 labels; returns the positives' and negatives' scores. */
function splitByLabel(scores: Scores, labels: Labels): { pos: Float64Array; neg: Float64Array } {
  if (scores.length !== labels.length) {
    throw new MetricError('LENGTH_MISMATCH', `scores has ${scores.length} entries but labels has ${labels.length}`);
  }
  let p = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = Number(labels[i]);
    if (y !== 0 && y !== 1) throw new MetricError('BAD_LABEL', `label ${i} is ${String(labels[i])}; labels must be 0 or 1`);
    if (!Number.isFinite(scores[i])) throw new MetricError('NON_FINITE', `score ${i} is ${scores[i]}`);
    p += y;
  }
  const pos = new Float64Array(p);
  const neg = new Float64Array(labels.length - p);
  for (let i = 0, a = 0, b = 0; i < labels.length; i++) {
    if (Number(labels[i]) === 1) pos[a++] = scores[i];
    else neg[b++] = scores[i];
  }
  return { pos, neg };
}

/**
 * Exact, tie-aware ROC AUC in O(n log n): both classes are sorted, then merged; a negative scoring the same as a
 * positive counts one half. Returns NaN when either class is empty (AUC is undefined there).
 */
export function auc(scores: Scores, labels: Labels): number {
  const { pos, neg } = splitByLabel(scores, labels);
  if (pos.length === 0 || neg.length === 0) return NaN;
  pos.sort();
  neg.sort();
  let below = 0; // negatives strictly below the current positive score
  let wins = 0; // sum over positives of (#neg below + 1/2 #neg equal)
  for (let i = 0; i < pos.length; ) {
    const s = pos[i];
    let j = i;
    while (j < pos.length && pos[j] === s) j++;
    while (below < neg.length && neg[below] < s) below++;
    let equal = 0;
    while (below + equal < neg.length && neg[below + equal] === s) equal++;
    wins += (j - i) * (below + 0.5 * equal);
    i = j;
  }
  return wins / (pos.length * neg.length);
}

export interface F1Result {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Precision, recall and F1 when every example with s_i >= threshold is predicted positive (0 where undefined). */
export function f1AtThreshold(scores: Scores, labels: Labels, threshold: number): F1Result {
  const { pos, neg } = splitByLabel(scores, labels);
  let tp = 0, fp = 0;
  for (let i = 0; i < pos.length; i++) if (pos[i] >= threshold) tp++;
  for (let i = 0; i < neg.length; i++) if (neg[i] >= threshold) fp++;
  return f1From(threshold, tp, fp, pos.length);
}

/** The threshold (one of the scores) with the highest F1, found in O(n log n). */
export function bestF1(scores: Scores, labels: Labels): F1Result {
  const { pos, neg } = splitByLabel(scores, labels);
  const all = new Float64Array(pos.length + neg.length);
  all.set(pos);
  all.set(neg, pos.length);
  all.sort();
  pos.sort();
  neg.sort();
  let best: F1Result = f1From(Infinity, 0, 0, pos.length);
  // Walk thresholds from high to low; tp / fp = counts of scores >= t.
  let ip = pos.length, ineg = neg.length;
  for (let k = all.length - 1; k >= 0; k--) {
    const t = all[k];
    if (k > 0 && all[k - 1] === t) continue;
    while (ip > 0 && pos[ip - 1] >= t) ip--;
    while (ineg > 0 && neg[ineg - 1] >= t) ineg--;
    const r = f1From(t, pos.length - ip, neg.length - ineg, pos.length);
    if (r.f1 > best.f1) best = r;
  }
  return best;
}

function f1From(threshold: number, tp: number, fp: number, positives: number): F1Result {
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = positives === 0 ? 0 : tp / positives;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { threshold, precision, recall, f1 };
}

/** RelaImpr in percent: how much of the mature model's lift over random the model achieves. */
export function relaImpr(aucModel: number, aucMature: number): number {
  if (aucMature === 0.5) return NaN;
  return ((aucModel - 0.5) / (aucMature - 0.5)) * 100;
}

/** Mean binary cross-entropy of probabilities p_i against labels, with p clipped to [eps, 1 - eps]. */
export function logLoss(probabilities: Scores, labels: Labels, eps = 1e-12): number {
  const { pos, neg } = splitByLabel(probabilities, labels);
  if (pos.length + neg.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < pos.length; i++) sum -= Math.log(Math.min(1 - eps, Math.max(eps, pos[i])));
  for (let i = 0; i < neg.length; i++) sum -= Math.log(1 - Math.min(1 - eps, Math.max(eps, neg[i])));
  return sum / (pos.length + neg.length);
}

/** GAUC (header) and the number of users it averages over; NaN when no user qualifies. */
export function perUserAuc(users: Int32Array, scores: ArrayLike<number>, labels: Uint8Array): { gauc: number; users: number } {
  const order = Int32Array.from({ length: users.length }, (_, k) => k).sort((a, b) => users[a] - users[b] || a - b);
  let sum = 0;
  let weight = 0;
  let counted = 0;
  for (let a = 0; a < order.length; ) {
    let b = a;
    while (b < order.length && users[order[b]] === users[order[a]]) b++;
    let pos = 0;
    for (let k = a; k < b; k++) pos += labels[order[k]];
    if (pos > 0 && pos < b - a) {
      const rows = order.subarray(a, b);
      sum += (b - a) * auc(Float64Array.from(rows, (r) => scores[r]), Uint8Array.from(rows, (r) => labels[r]));
      weight += b - a;
      counted++;
    }
    a = b;
  }
  return { gauc: weight > 0 ? sum / weight : NaN, users: counted };
}

