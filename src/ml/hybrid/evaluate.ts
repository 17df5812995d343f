/**
 * Cold-item rows and per-user AUC, for HYBRID_MF's epoch selection on held-out training items (and for tests/scripts).
 *
 *   GAUC = sum_u n_u AUC_u / sum_u n_u over the users with at least one positive and one negative row, n_u = the
 *          user's rows: a ranking metric within each user, so per-user offsets (activity) do not count
 */
import { auc } from '../metrics.js';
import { Rng } from '../../lib/random.js';

export interface PairRows {
  length: number;
  user: Int32Array;
  item: Int32Array;
  label: Uint8Array;
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

/**
 * Each positive (user, item) with `negatives` rows (user, j, 0), j drawn uniformly from `pool` (distinct items) among
 * those `isPositive(user, j)` rejects not (a known positive would be a false negative); up to 16 draws per negative.
 */
export function sampledRows(posUser: ArrayLike<number>, posItem: ArrayLike<number>, pool: Int32Array, negatives: number, isPositive: (u: number, i: number) => boolean, seed: number): PairRows {
  const rng = new Rng(seed);
  const user: number[] = [];
  const item: number[] = [];
  const label: number[] = [];
  for (let k = 0; k < posUser.length; k++) {
    const u = posUser[k];
    user.push(u);
    item.push(posItem[k]);
    label.push(1);
    for (let n = 0; n < negatives && pool.length > 1; n++) {
      for (let attempt = 0; attempt < 16; attempt++) {
        const j = pool[rng.int(pool.length)];
        if (isPositive(u, j)) continue;
        user.push(u);
        item.push(j);
        label.push(0);
        break;
      }
    }
  }
  return { length: user.length, user: Int32Array.from(user), item: Int32Array.from(item), label: Uint8Array.from(label) };
}
