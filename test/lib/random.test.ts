import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, rng } from '../../src/lib/random.js';

test('xoshiro128** matches the reference sequence from state (1, 2, 3, 4)', () => {
  // Worked by hand from the reference C code: out = rotl(s1 * 5, 7) * 9, then the state update.
  const r = Rng.fromState(1, 2, 3, 4);
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32()], [11520, 0, 5927040]);
});

test('same seed gives the same stream; different seeds differ', () => {
  const a = rng(42), b = rng(42), c = rng(43);
  const xa = Array.from({ length: 100 }, () => a.nextUint32());
  const xb = Array.from({ length: 100 }, () => b.nextUint32());
  const xc = Array.from({ length: 100 }, () => c.nextUint32());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
  assert.ok(xa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
});

test('uniform draws have mean 1/2 and variance 1/12 (tolerance 5 standard errors)', () => {
  const r = rng(7);
  const n = 200_000;
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
  }
  const mean = s / n;
  const variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
});

test('int(n) covers [0, n) evenly (chi-square with 9 dof below 30, p < 0.001)', () => {
  const r = rng(1);
  const n = 10, draws = 100_000;
  const counts = new Array(n).fill(0);
  for (let i = 0; i < draws; i++) counts[r.int(n)]++;
  const expected = draws / n;
  const chi2 = counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 30, `chi2 ${chi2}`);
  assert.throws(() => r.int(0), RangeError);
  assert.throws(() => r.int(2.5), RangeError);
});

test('gaussian draws have mean 0, variance 1 and kurtosis 3 (tolerance 0.02 / 0.02 / 0.1)', () => {
  const r = rng(3);
  const n = 200_000;
  let s = 0, s2 = 0, s4 = 0;
  for (let i = 0; i < n; i++) {
    const z = r.gaussian();
    s += z;
    s2 += z * z;
    s4 += z ** 4;
  }
  assert.ok(Math.abs(s / n) < 0.02);
  assert.ok(Math.abs(s2 / n - 1) < 0.02);
  assert.ok(Math.abs(s4 / n - 3) < 0.1);
});

test('shuffle is a seeded permutation and respects the range', () => {
  const a = Int32Array.from({ length: 1000 }, (_, i) => i);
  rng(5).shuffle(a);
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(Array.from(a), Array.from({ length: 1000 }, (_, i) => i));
  const b = Int32Array.from({ length: 1000 }, (_, i) => i);
  rng(5).shuffle(b);
  assert.deepEqual(a, b);
  const c = Int32Array.from({ length: 10 }, (_, i) => i);
  rng(9).shuffle(c, 3, 7);
  assert.deepEqual(Array.from(c.subarray(0, 3)), [0, 1, 2]);
  assert.deepEqual(Array.from(c.subarray(7)), [7, 8, 9]);
  assert.deepEqual(Array.from(c.subarray(3, 7)).sort(), [3, 4, 5, 6]);
});

test('fork gives an independent reproducible stream; bad seeds are refused', () => {
  const a = rng(11).fork(), b = rng(11).fork();
  assert.equal(a.nextUint32(), b.nextUint32());
  assert.throws(() => new Rng(NaN), RangeError);
  assert.throws(() => Rng.fromState(0, 0, 0, 0), RangeError);
});
