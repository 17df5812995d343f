/**
 * Pooled AUC and per-user AUC (GAUC) with row weights, from score orders computed once per method, so that a bootstrap
 * resample (a weight per row: how often its post was drawn) costs one linear pass instead of a sort.
 *
 * Glossary (rows r with score s_r, label y_r, user u_r, weight w_r >= 0; w = 1 for the point estimate)
 *   AUC_w     sum_{pos a, neg b} w_a w_b ([s_a > s_b] + 1/2 [s_a = s_b]) / (sum_pos w_a * sum_neg w_b)
 *   AUC_u     AUC_w on the rows of user u
 *   GAUC      sum_u n_u AUC_u / sum_u n_u over the users with a positive and a negative row of positive weight,
 *             n_u = sum of the weights of u's rows (the user's scored rows); the mean per-user AUC of the cold-start
 *             literature (LightFM reports it), weighted so that a user with 2 rows moves it less than one with 200
 */

/** Rows sorted for one method: all rows by score (pooled AUC) and rows by (user, score) with each user's range. */
export interface ScoreOrder {
  scores: Float64Array;
  labels: Uint8Array;
  /** Row indices by ascending score. */
  byScore: Int32Array;
  /** Row indices by user, then ascending score; user k's rows are byUser[userStart[k] .. userStart[k + 1]]. */
  byUser: Int32Array;
  userStart: Int32Array;
}

export function scoreOrder(scores: Float64Array, labels: Uint8Array, users: Int32Array): ScoreOrder {
  const n = scores.length;
  // A NaN would never equal itself in the tie loop below (an endless loop) and makes the sort order arbitrary.
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN: a method's embedding or model diverged`);
  const byScore = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const byUser = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => users[a] - users[b] || scores[a] - scores[b]);
  const starts: number[] = [0];
  for (let k = 1; k < n; k++) if (users[byUser[k]] !== users[byUser[k - 1]]) starts.push(k);
  starts.push(n);
  return { scores, labels, byScore, byUser, userStart: Int32Array.from(starts) };
}

/**
 * Weighted AUC of the rows order[from..to) (ascending scores); ties count one half. Returns [auc, weight of the rows]
 * with auc NaN when the positives' or the negatives' weight is 0.
 */
function aucOfRange(o: ScoreOrder, order: Int32Array, from: number, to: number, w: Float64Array | null): [number, number] {
  let negBelow = 0, wins = 0, posW = 0, negW = 0;
  for (let a = from; a < to; ) {
    const s = o.scores[order[a]];
    let b = a, pos = 0, neg = 0;
    for (; b < to && o.scores[order[b]] === s; b++) {
      const r = order[b];
      const x = w ? w[r] : 1;
      if (o.labels[r]) pos += x;
      else neg += x;
    }
    wins += pos * (negBelow + 0.5 * neg);
    negBelow += neg;
    posW += pos;
    negW += neg;
    a = b;
  }
  const auc = posW > 0 && negW > 0 ? wins / (posW * negW) : NaN;
  return [auc, posW + negW];
}

/** Pooled AUC over all rows (weights optional). */
export function pooledAuc(o: ScoreOrder, w: Float64Array | null = null): number {
  return aucOfRange(o, o.byScore, 0, o.byScore.length, w)[0];
}

/** GAUC and the number of users it averages over (weights optional). */
export function gaucOf(o: ScoreOrder, w: Float64Array | null = null): { gauc: number; users: number } {
  let sum = 0, weight = 0, users = 0;
  for (let k = 0; k + 1 < o.userStart.length; k++) {
    const [a, n] = aucOfRange(o, o.byUser, o.userStart[k], o.userStart[k + 1], w);
    if (!Number.isFinite(a)) continue;
    sum += n * a;
    weight += n;
    users++;
  }
  return { gauc: users > 0 ? sum / weight : NaN, users };
}
