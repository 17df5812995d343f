/**
 * GAUC and pooled AUC against brute force (with ties and weights), and the paired bootstrap over posts: its 95%
 * interval covers the true GAUC difference in a planted world in about 95% of seeds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairedBootstrap, verdictOf } from '../../../src/ml/evaluation/comparisons.js';
import { gaucOf, pooledAuc, scoreOrder } from '../../../src/ml/evaluation/ranking.js';
import type { EvalRows } from '../../../src/ml/evaluation/scoring.js';
import { auc } from '../../../src/ml/metrics.js';
import { Rng } from '../../../src/lib/random.js';

/** O(n^2) weighted AUC: every (positive, negative) pair, ties one half. */
function bruteAuc(s: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let a = 0; a < s.length; a++) {
    if (!y[a]) continue;
    for (let b = 0; b < s.length; b++) {
      if (y[b]) continue;
      const x = w[a] * w[b];
      num += x * (s[a] > s[b] ? 1 : s[a] === s[b] ? 0.5 : 0);
      den += x;
    }
  }
  return den > 0 ? num / den : NaN;
}

/** Brute-force GAUC: per user, brute AUC; weighted by the user's row weight; users with both labels only. */
function bruteGauc(s: Float64Array, y: Uint8Array, u: Int32Array, w: Float64Array): { gauc: number; users: number } {
  let sum = 0, weight = 0, users = 0;
  for (const user of new Set(u)) {
    const idx = [...u.keys()].filter((r) => u[r] === user && w[r] > 0);
    const a = bruteAuc(idx.map((r) => s[r]), idx.map((r) => y[r]), idx.map((r) => w[r]));
    if (!Number.isFinite(a)) continue;
    const n = idx.reduce((acc, r) => acc + w[r], 0);
    sum += n * a;
    weight += n;
    users++;
  }
  return { gauc: users ? sum / weight : NaN, users };
}

test('GAUC and pooled AUC equal brute force, with ties, weights and users lacking a class', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const n = 30 + rng.int(60);
    const s = Float64Array.from({ length: n }, () => Math.round(rng.normal(0, 1) * 2) / 2); // coarse: many ties
    const y = Uint8Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
    const u = Int32Array.from({ length: n }, () => rng.int(8));
    const w = Float64Array.from({ length: n }, () => rng.int(3)); // 0, 1 or 2: a bootstrap's counts
    const ones = new Float64Array(n).fill(1);
    const o = scoreOrder(s, y, u);
    const tol = 1e-12;
    assert.ok(Math.abs(pooledAuc(o) - auc(s, y)) < tol);
    assert.ok(Math.abs(pooledAuc(o, w) - bruteAuc(s, y, w)) < tol);
    for (const weights of [ones, w]) {
      const got = gaucOf(o, weights);
      const want = bruteGauc(s, y, u, weights);
      assert.equal(got.users, want.users);
      assert.ok(Math.abs(got.gauc - want.gauc) < tol, `trial ${trial}: ${got.gauc} vs ${want.gauc}`);
    }
    assert.deepEqual(gaucOf(o, null), gaucOf(o, ones));
  }
});

test('GAUC is not fooled by user propensity where pooled AUC is', () => {
  // Within each user the score ranks at random; across users it tracks how often the user is positive.
  const rng = new Rng(9);
  const n = 4000;
  const u = Int32Array.from({ length: n }, (_, r) => r % 40);
  const y = Uint8Array.from(u, (x) => (rng.next() < (x < 20 ? 0.8 : 0.2) ? 1 : 0));
  const s = Float64Array.from(u, (x) => (x < 20 ? 1 : 0) + 0.01 * rng.next());
  const o = scoreOrder(s, y, u);
  assert.ok(pooledAuc(o) > 0.75);
  assert.ok(Math.abs(gaucOf(o).gauc - 0.5) < 0.03, `GAUC ${gaucOf(o).gauc}`);
});

/**
 * A planted population: posts with a per-post effect on each of two methods' scores, seen by random users. The "true"
 * GAUC difference is the one on a very large draw of posts; a study draws few posts and bootstraps them.
 */
function world(posts: number, rng: Rng): { rows: EvalRows; a: Float64Array; b: Float64Array } {
  const user: number[] = [], post: number[] = [], label: number[] = [], a: number[] = [], b: number[] = [];
  for (let p = 0; p < posts; p++) {
    const ea = 0.6 + 0.8 * rng.normal(0, 1); // method A's per-post quality varies a lot: the post is the unit
    const eb = 0.4 + 0.8 * rng.normal(0, 1);
    const k = 4 + rng.int(8);
    for (let r = 0; r < k; r++) {
      const y = rng.next() < 0.5 ? 1 : 0;
      user.push(rng.int(30));
      post.push(p);
      label.push(y);
      a.push(ea * y + rng.normal(0, 1));
      b.push(eb * y + rng.normal(0, 1));
    }
  }
  const rows: EvalRows = { length: user.length, user: Int32Array.from(user), post: Int32Array.from(post), label: Uint8Array.from(label), positives: label.reduce((x, v) => x + v, 0), group: Int32Array.from(post) };
  return { rows, a: Float64Array.from(a), b: Float64Array.from(b) };
}

test('paired bootstrap over posts: the 95% interval covers the true GAUC difference in about 95% of planted studies', () => {
  const big = world(60_000, new Rng(1));
  const truth = gaucOf(scoreOrder(big.a, big.rows.label, big.rows.user)).gauc - gaucOf(scoreOrder(big.b, big.rows.label, big.rows.user)).gauc;
  assert.ok(truth > 0.02, `planted difference ${truth}`);
  const studies = 120;
  let covered = 0, wins = 0;
  for (let seed = 0; seed < studies; seed++) {
    const w = world(120, new Rng(1000 + seed));
    const orders = [scoreOrder(w.a, w.rows.label, w.rows.user), scoreOrder(w.b, w.rows.label, w.rows.user)];
    const [g] = pairedBootstrap(w.rows, orders, 0, [1], { resamples: 400, level: 0.95, seed });
    assert.equal(g.metric, 'gauc');
    if (g.ci[0] <= truth && truth <= g.ci[1]) covered++;
    if (verdictOf(g.ci, false) === 'win') wins++;
  }
  // Binomial(120, 0.95) has sd 0.02; the percentile bootstrap of a ratio estimator on 120 posts runs slightly
  // narrow, so the accepted band is 0.95 - 4.5 sd .. 1.
  const rate = covered / studies;
  assert.ok(rate >= 0.86 && rate <= 1, `coverage ${rate}`);
  assert.ok(wins > 0 && wins < studies, `wins ${wins}: the planted difference is detectable but not always`);
});

test('verdicts: win above 0, loss below, tie across it, none when insufficient or undefined', () => {
  assert.equal(verdictOf([0.01, 0.05], false), 'win');
  assert.equal(verdictOf([-0.05, -0.01], false), 'loss');
  assert.equal(verdictOf([-0.01, 0.02], false), 'tie');
  assert.equal(verdictOf([0.01, 0.05], true), null);
  assert.equal(verdictOf([NaN, NaN], false), null);
});

test('paired bootstrap: identical methods give a zero difference and a zero-width interval; deterministic per seed', () => {
  const w = world(80, new Rng(4));
  const o = scoreOrder(w.a, w.rows.label, w.rows.user);
  const r = pairedBootstrap(w.rows, [o, o], 0, [1], { resamples: 50, level: 0.95, seed: 2 });
  for (const c of r) assert.deepEqual([c.diff, ...c.ci], [0, 0, 0]);
  const ob = scoreOrder(w.b, w.rows.label, w.rows.user);
  assert.deepEqual(pairedBootstrap(w.rows, [o, ob], 0, [1], { resamples: 50, level: 0.95, seed: 2 }), pairedBootstrap(w.rows, [o, ob], 0, [1], { resamples: 50, level: 0.95, seed: 2 }));
});

test('a NaN score is refused instead of looping in the tie scan', () => {
  assert.throws(() => scoreOrder(Float64Array.of(0.1, NaN, 0.3), Uint8Array.of(1, 0, 1), Int32Array.of(0, 0, 0)), /NaN/);
});
