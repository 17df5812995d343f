import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FfmError } from '../../../src/ml/ffm/errors.js';
import { syntheticDataset } from '../../../src/ml/ffm/synthetic-dataset.js';
import { cosineDistance, doublingGrid, findThreshold, maturityCurve, maturityCurves, maturityCurveSvg } from '../../../src/ml/maturity/index.js';
import { buildSignalRows } from '../../../src/ml/ffm/dataset.js';
import { trainSpan } from '../../../src/ml/ffm/kernel.js';
import { initWeights } from '../../../src/ml/ffm/model.js';
import { ffmParams } from '../../../src/ml/ffm/params.js';

const grid = Array.from({ length: 200 }, (_, i) => (i + 1) * 100);

test('the threshold is found on a planted curve', () => {
  // dist(n) = 0.5 exp(-n / 2000) < 0.01  <=>  n > 2000 ln 50 = 7824.05, so M is the grid point 7900.
  const distance = grid.map((n) => 0.5 * Math.exp(-n / 2000));
  const count = grid.map(() => 10);
  assert.equal(findThreshold(grid, distance, count, 0.01), 7900);
  // A later excursion above epsilon moves M past it...
  const bumped = distance.map((d, i) => (grid[i] === 12000 ? 0.02 : d));
  assert.equal(findThreshold(grid, bumped, count, 0.01), 12100);
  // ...unless too few posts stand behind that point.
  const thin = count.map((c, i) => (grid[i] === 12000 ? 2 : c));
  assert.equal(findThreshold(grid, bumped, thin, 0.01, 5), 7900);
  // NaN (no post) points are skipped; a curve that ends above epsilon has no threshold.
  const gaps = distance.map((d, i) => (i % 7 === 0 ? NaN : d));
  assert.equal(findThreshold(grid, gaps, count, 0.01), 7900);
  assert.equal(findThreshold(grid, distance.map(() => 0.5), count, 0.01), null);
  assert.equal(findThreshold([], [], [], 0.01), null);
  assert.throws(() => findThreshold([1], [], [], 0.01), RangeError);
  assert.throws(() => findThreshold([1], [1], [1], 0), RangeError);
});

test('cosineDistance', () => {
  const a = Float32Array.from([1, 0, 0, 1]);
  assert.equal(cosineDistance(a, 0, a, 2, 2), 1);
  assert.equal(cosineDistance(a, 0, Float32Array.from([2, 0]), 0, 2), 0);
  assert.ok(Math.abs(cosineDistance(a, 0, Float32Array.from([1, 1]), 0, 2) - (1 - Math.SQRT1_2)) < 1e-7);
  assert.ok(Number.isNaN(cosineDistance(a, 0, new Float32Array(2), 0, 2)));
});

const ds = syntheticDataset({ seed: 3, users: 1000, posts: 200, eventsPerSignal: 150_000 });
const options = { maturity: { snapshotEvery: 100, maxViews: 20_000, epsilon: 0.02, minPosts: 3 }, ffm: { k: 16, seed: 4 } };

test('replay: the curve falls with views, counts follow the view distribution, and it is deterministic', () => {
  const c = maturityCurve(ds, 'like', null, options);
  const likeViews = new Int32Array(ds.items.ids.length);
  const s = ds.signals.indexOf('like');
  for (let i = 0; i < ds.interactions.length; i++) if (ds.interactions.signal[i] === s) likeViews[ds.interactions.item[i]]++;
  for (let b = 0; b < Math.min(c.views.length, 20); b++) {
    assert.equal(c.count[b], likeViews.filter((v) => v >= c.views[b]).length, `posts with >= ${c.views[b]} views`);
  }
  const usable = c.distance.filter((_, i) => c.count[i] >= 3);
  const early = usable.slice(0, 3).reduce((a, b) => a + b) / 3;
  const late = usable.slice(-3).reduce((a, b) => a + b) / 3;
  assert.ok(early > 5 * late, `early ${early} vs late ${late}`);
  assert.ok(c.threshold !== null && c.threshold > c.views[0], `threshold ${c.threshold}`);
  assert.deepEqual(maturityCurve(ds, 'like', null, options), c);
});

test('one curve per signal and media type, and an SVG of them', () => {
  const curves = maturityCurves(ds, { ...options, byMediaType: true });
  assert.deepEqual(curves.map((c) => c.key), ['play/video', 'play/image', 'like/video', 'like/image']);
  for (const c of curves) assert.equal(c.views.length, c.distance.length);
  const svg = maturityCurveSvg(curves);
  assert.ok(svg.startsWith('<svg') && svg.endsWith('</svg>'));
  assert.equal((svg.match(/<polyline/g) ?? []).length, 4);
  assert.ok(svg.includes('epsilon = 0.02'));
  for (const c of curves) if (c.threshold !== null) assert.ok(svg.includes(`M = ${c.threshold.toLocaleString('en-US')}`));
});

test('bad maturity input gives a typed FfmError', () => {
  const code = (c: string) => (e: unknown) => e instanceof FfmError && e.code === c;
  assert.throws(() => maturityCurve(ds, 'like', null, { maturity: { snapshotEvery: 0 } }), code('BAD_PARAM'));
  assert.throws(() => maturityCurve(ds, 'like', null, { maturity: { epsilon: NaN } }), code('BAD_PARAM'));
  assert.throws(() => maturityCurve(ds, 'share', null), code('UNKNOWN_SIGNAL'));
  assert.throws(() => maturityCurve(ds, 'like', null, { contextFields: ['weather'] }), code('UNKNOWN_FIELD'));
  assert.throws(() => maturityCurves(ds, { signals: ['nope'] }), code('UNKNOWN_SIGNAL'));
});

test('doubling grid: 2^j and 3 * 2^j, closed under halving down to 2', () => {
  assert.deepEqual(doublingGrid(100), [2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96]);
  assert.deepEqual(doublingGrid(1), []);
  for (const n of doublingGrid(5000)) if (n > 2) assert.ok(n % 2 === 0 && (n / 2 === 3 || doublingGrid(5000).includes(n / 2)), `${n}`);
});

test('doubling curve = 1 - cos(v(n/2), v(n)) from a replay that keeps every post vector (brute force)', () => {
  const small = syntheticDataset({ seed: 7, users: 200, posts: 60, eventsPerSignal: 6_000 });
  const fp = ffmParams({ k: 8, seed: 2 });
  const c = maturityCurve(small, 'like', null, { maturity: { compare: 'doubling', maxViews: 1000, epsilon: 0.02, minPosts: 1 }, ffm: { k: 8, seed: 2 } });
  assert.equal(c.compare, 'doubling');
  assert.equal(c.snapshotEvery, 0);
  // Brute force: the same rows and updates, every post's vector after each of its views.
  const { data, source } = buildSignalRows(small, { signal: 'like', seed: fp.seed, order: 'time' });
  const W = initWeights(data.space, fp, false);
  const m = data.space.fields.length, k = fp.k;
  const at = (p: number) => ((data.space.offsets[1] + p) * m + 0) * 2 * k;
  const history = new Map<number, Float32Array[]>();
  for (let i = 0; i < data.rows; i++) {
    trainSpan(W, data, data.maxRowLength, i, i + 1, m, k, fp.eta, fp.lambda, fp.normalize);
    if (source[i] < 0) continue;
    const p = small.interactions.item[source[i]];
    if (!history.has(p)) history.set(p, [W.slice(at(p), at(p) + k)]); // history[n - 1] = v(n)
    else history.get(p)!.push(W.slice(at(p), at(p) + k));
  }
  assert.ok(c.views.length >= 4, `${c.views}`);
  for (let b = 0; b < c.views.length; b++) {
    const n = c.views[b];
    let sum = 0, cnt = 0;
    for (const h of history.values()) {
      if (h.length < n) continue;
      const dist = cosineDistance(h[n / 2 - 1], 0, h[n - 1], 0, k);
      if (Number.isFinite(dist)) (sum += dist), cnt++;
    }
    assert.equal(c.count[b], cnt, `count at ${n}`);
    assert.ok(Math.abs(c.distance[b] - sum / cnt) < 1e-9, `distance at ${n}: ${c.distance[b]} vs ${sum / cnt}`);
  }
  assert.throws(() => maturityCurve(small, 'like', null, { maturity: { compare: 'sideways' as 'doubling' } }), (e: unknown) => e instanceof FfmError && e.code === 'BAD_PARAM');
});
