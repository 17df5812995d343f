import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auc, bestF1, f1AtThreshold, logLoss, MetricError, relaImpr } from '../../src/ml/metrics.js';
import { rng } from '../../src/lib/random.js';

/** O(P N) definition of AUC, ties counted half. */
function bruteAuc(s: number[], y: number[]): number {
  let wins = 0, pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

test('auc: hand-worked cases', () => {
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auc([1, 2, 3], [0, 1, 1]), 1);
  assert.equal(auc([3, 2, 1], [0, 1, 1]), 0);
  assert.equal(auc([5, 5, 5, 5], [0, 1, 0, 1]), 0.5);
  assert.equal(auc([1, 2, 2, 3], [0, 0, 1, 1]), 0.875); // one tied pair counts 1/2
  assert.ok(Number.isNaN(auc([1, 2], [1, 1])));
  assert.equal(auc(new Float32Array([0.2, 0.9]), new Uint8Array([0, 1])), 1);
  assert.equal(auc([0.2, 0.9], [false, true]), 1);
});

test('auc equals the O(n^2) definition on random data with many ties (tolerance 1e-12)', () => {
  const r = rng(17);
  for (let trial = 0; trial < 20; trial++) {
    const n = 50 + r.int(300);
    const s = Array.from({ length: n }, () => r.int(20) / 4); // coarse scores -> ties
    const y = Array.from({ length: n }, () => (r.bernoulli(0.3) ? 1 : 0));
    if (!y.includes(1) || !y.includes(0)) continue;
    assert.ok(Math.abs(auc(s, y) - bruteAuc(s, y)) < 1e-12);
  }
});

test('auc is O(n log n): 2M scores in well under 5 s', () => {
  const r = rng(2);
  const n = 2_000_000;
  const s = new Float32Array(n), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = r.bernoulli(0.5) ? 1 : 0;
    s[i] = y[i] + r.gaussian(); // separation 1 sd -> AUC = Phi(1/sqrt 2) = 0.7602
  }
  const t0 = performance.now();
  const a = auc(s, y);
  assert.ok(performance.now() - t0 < 5000);
  assert.ok(Math.abs(a - 0.7602) < 0.003, `auc ${a}`);
});

test('bad input gives a typed MetricError', () => {
  assert.throws(() => auc([1, 2], [1]), (e: unknown) => e instanceof MetricError && e.code === 'LENGTH_MISMATCH');
  assert.throws(() => auc([1, NaN], [1, 0]), (e: unknown) => e instanceof MetricError && e.code === 'NON_FINITE');
  assert.throws(() => auc([1, 2], [1, 2]), (e: unknown) => e instanceof MetricError && e.code === 'BAD_LABEL');
});

test('f1AtThreshold: hand-worked case', () => {
  // predicted positive: 0.9 (tp), 0.7 (fp), 0.6 (tp); missed positive 0.2 -> P = 2/3, R = 2/3, F1 = 2/3
  const r = f1AtThreshold([0.9, 0.7, 0.6, 0.2, 0.1], [1, 0, 1, 1, 0], 0.5);
  assert.ok(Math.abs(r.precision - 2 / 3) < 1e-12 && Math.abs(r.recall - 2 / 3) < 1e-12 && Math.abs(r.f1 - 2 / 3) < 1e-12);
  assert.equal(f1AtThreshold([0.1, 0.2], [1, 0], 0.9).f1, 0);
});

test('bestF1 matches a sweep over every distinct score', () => {
  const r = rng(8);
  for (let trial = 0; trial < 10; trial++) {
    const n = 200;
    const y = Array.from({ length: n }, () => (r.bernoulli(0.4) ? 1 : 0));
    const s = y.map((v) => Math.round((v + r.gaussian()) * 10) / 10);
    let best = 0;
    for (const t of new Set(s)) best = Math.max(best, f1AtThreshold(s, y, t).f1);
    const got = bestF1(s, y);
    assert.ok(Math.abs(got.f1 - best) < 1e-12);
    assert.ok(Math.abs(f1AtThreshold(s, y, got.threshold).f1 - got.f1) < 1e-12);
  }
});

test('relaImpr and logLoss', () => {
  assert.ok(Math.abs(relaImpr(0.7, 0.9) - 50) < 1e-9);
  assert.equal(relaImpr(0.9, 0.9), 100);
  assert.ok(Number.isNaN(relaImpr(0.7, 0.5)));
  assert.ok(Math.abs(logLoss([0.5, 0.5], [1, 0]) - Math.LN2) < 1e-12);
  assert.ok(Math.abs(logLoss([0.9, 0.2], [1, 0]) - -(Math.log(0.9) + Math.log(0.8)) / 2) < 1e-12);
});
