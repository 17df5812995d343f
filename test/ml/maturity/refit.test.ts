/**
 * The refit maturity curve (src/ml/maturity/refit.ts) on a planted world whose posts stop moving at n0 views: each
 * post's first n0 positives come from distinct users, after which the same users come back in the same order (the
 * audience stops changing, so the mean objective and the fitted vector stop changing). M must be found within +-20%
 * of n0, for several n0; the curve falls from about 1 and does not depend on a snapshot interval (it has none).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refitCurve, refitGrid, type RefitInput } from '../../../src/ml/maturity/refit.js';
import { Rng } from '../../../src/lib/random.js';

function world(n0: number, seed: number): RefitInput {
  const rng = new Rng(seed);
  const D = 9;
  const U = 600;
  const P = 260;
  const users = new Float32Array(U * D);
  for (let u = 0; u < U; u++) {
    for (let j = 0; j < D - 1; j++) users[u * D + j] = rng.gaussian();
    users[u * D + D - 1] = 1; // the bias column of a folded user
  }
  const posts = Float32Array.from({ length: P * D }, () => 0.3 * rng.gaussian());
  const start = new Float32Array(P * D); // cold vector 0: the id part is everything
  const positives = new Map<number, Int32Array>();
  for (let p = 0; p < 60; p++) {
    const audience = rng.shuffle(Int32Array.from({ length: U }, (_, u) => u)).slice(0, n0);
    positives.set(p, Int32Array.from({ length: 8 * n0 }, (_, k) => audience[k % n0]));
  }
  return { key: 'click/video', signal: 'click', mediaType: 'video', d: D, users, posts, start, positives, pool: Int32Array.from({ length: P - 60 }, (_, k) => 60 + k) };
}

test('refit grid: 1, 2, 3, ... growing by at most 20% a step', () => {
  const g = refitGrid(100);
  assert.deepEqual(g.slice(0, 6), [1, 2, 3, 4, 5, 6]);
  for (let k = 6; k < g.length; k++) assert.ok(g[k] > g[k - 1] && g[k] <= Math.round(1.2 * g[k - 1]) + 1e-9, `${g[k - 1]} -> ${g[k]}`);
  assert.ok(g[g.length - 1] <= 100 && g[g.length - 1] > 80);
});

test('planted world: posts that settle at n0 views give M within +-20% of n0', () => {
  for (const [n0, seed] of [[12, 1], [30, 2], [60, 3]] as const) {
    const curve = refitCurve(world(n0, seed), { minPosts: 20 });
    const line = curve.views.map((n, k) => `${n}:${curve.distance[k].toFixed(3)}`).join(' ');
    assert.ok(curve.threshold !== null, `n0 ${n0}: no threshold; ${line}`);
    assert.ok(Math.abs(curve.threshold - n0) <= 0.2 * n0, `n0 ${n0}: M ${curve.threshold}; ${line}`);
    assert.ok(curve.distance[0] > 0.5, `the first view leaves most of the way to go (${curve.distance[0]})`);
    assert.ok(curve.count.every((c) => c === 60 || c === 0), 'every post with 2n positives counts');
  }
});
