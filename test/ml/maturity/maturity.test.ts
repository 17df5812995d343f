import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FfmError } from '../../../src/ml/ffm/errors.js';
import { syntheticDataset } from '../../../src/ml/ffm/synthetic-dataset.js';
import { cosineDistance, findThreshold, maturityCurve, maturityCurves, maturityCurveSvg } from '../../../src/ml/maturity/index.js';

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
