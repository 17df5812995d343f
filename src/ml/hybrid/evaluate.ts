/**
 * Cold-item rows and per-user AUC (GAUC, defined in src/ml/metrics.ts, which the MEMER trainer's validation shares),
 * for HYBRID_MF's epoch selection on held-out training items (and for tests/scripts).
 */
import { Rng } from '../../lib/random.js';
import { perUserAuc } from '../metrics.js';

export { perUserAuc };

export interface PairRows {
  length: number;
  user: Int32Array;
  item: Int32Array;
  label: Uint8Array;
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
