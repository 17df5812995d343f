/**
 * RIDGE baseline: recovers a planted linear map (small λ chosen), shrinks to the mean on pure-noise targets (large λ),
 * primal and dual solves agree (and satisfy the normal equations), missing modalities stay finite and are handled by
 * mean imputation + presence columns, fitRidge's dual branches match a primal solve of its design, and spec mismatches
 * are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset, FeatureMatrix, Modality } from '../../../src/datasets/types.js';
import type { ModalitySpec } from '../../../src/ml/memer/config.js';
import { DEFAULT_LAMBDAS, fitRidge, ridgeAffine, ridgeEmbeddings, ridgeSolve } from '../../../src/ml/pipeline/ridge.js';
import { Rng } from '../../../src/lib/random.js';
import { reducedContent } from '../../../src/ml/pipeline/content-pca.js';

const D = 32;
const SPECS: ModalitySpec[] = [{ modality: 'visual', dim: 12 }, { modality: 'audio', dim: 8 }];

/**
 * n posts with Gaussian features per spec, each column with its own offset and scale (so the z-score matters);
 * `missing(i, m)` zeroes post i's row of modality m (the dataset convention for a missing modality).
 */
function dataset(n: number, specs: readonly ModalitySpec[], rng: Rng, missing: (i: number, m: Modality) => boolean = () => false): Dataset {
  const features: Partial<Record<Modality, FeatureMatrix>> = {};
  for (const s of specs) {
    const offset = Array.from({ length: s.dim }, () => rng.normal(0, 3));
    const sd = Array.from({ length: s.dim }, () => 0.2 + 4 * rng.next());
    const data = new Float32Array(n * s.dim);
    for (let i = 0; i < n; i++) {
      if (missing(i, s.modality)) continue;
      for (let k = 0; k < s.dim; k++) data[i * s.dim + k] = offset[k] + sd[k] * rng.gaussian();
    }
    features[s.modality] = { rows: n, dim: s.dim, dtype: 'float32', data };
  }
  return {
    name: 'ridge',
    items: {
      ids: Array.from({ length: n }, (_, i) => `p${i}`),
      createdAt: new Float64Array(n),
      mediaType: new Uint8Array(n),
      tagNames: [],
      tagOffsets: new Int32Array(n + 1),
      tagIds: new Int32Array(0),
      text: Array.from({ length: n }, () => ''),
    },
    userIds: [],
    signals: [],
    interactions: { length: 0, user: new Int32Array(0), item: new Int32Array(0), signal: new Uint8Array(0), label: new Uint8Array(0), time: new Float64Array(0) },
    features,
  };
}

/** Row i's raw features, concatenated in spec order. */
function rawFeatures(ds: Dataset, i: number, specs: readonly ModalitySpec[]): number[] {
  return specs.flatMap((s) => Array.from((ds.features[s.modality]!.data as Float32Array).subarray(i * s.dim, (i + 1) * s.dim)));
}

/** y = x W* + b for every post, W* ~ N(0, 1/F), b ~ N(0, 1). */
function planted(ds: Dataset, n: number, specs: readonly ModalitySpec[], rng: Rng): { truth: Float32Array; w: number[][]; b: number[] } {
  const f = specs.reduce((s, x) => s + x.dim, 0);
  const w = Array.from({ length: f }, () => Array.from({ length: D }, () => rng.normal(0, 1 / Math.sqrt(f))));
  const b = Array.from({ length: D }, () => rng.gaussian());
  const truth = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const x = rawFeatures(ds, i, specs);
    for (let c = 0; c < D; c++) truth[i * D + c] = b[c] + x.reduce((s, v, j) => s + v * w[j][c], 0);
  }
  return { truth, w, b };
}

/** ||pred - truth|| / ||truth - mean(truth)|| over the rows of `items`. */
function relativeError(pred: Float32Array, truth: Float32Array, items: ArrayLike<number>): number {
  const mean = new Float64Array(D);
  for (const p of Array.from(items)) for (let c = 0; c < D; c++) mean[c] += truth[p * D + c] / items.length;
  let err = 0;
  let spread = 0;
  for (const p of Array.from(items)) {
    for (let c = 0; c < D; c++) {
      err += (pred[p * D + c] - truth[p * D + c]) ** 2;
      spread += (truth[p * D + c] - mean[c]) ** 2;
    }
  }
  return Math.sqrt(err / spread);
}

const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, k) => a + k);

test('RIDGE recovers a planted linear map on held-out posts, with a small λ', () => {
  const rng = new Rng(11);
  const n = 400;
  const ds = dataset(n, SPECS, rng);
  const { truth } = planted(ds, n, SPECS, rng);
  const posts = Float32Array.from(truth, (v) => v + rng.normal(0, 0.01));
  const from = new Uint8Array(n);
  from.fill(1, 0, 300);
  const fit = fitRidge(ds, posts, D, from, SPECS, { seed: 3 });
  assert.equal(fit.trainPosts, 300);
  assert.equal(fit.validationPosts, 60);
  assert.equal(fit.features, 12 + 8 + 2);
  assert.equal(fit.solver, 'primal');
  // The default decades plus at most two half-decade refinements, ascending.
  const tried = fit.lambdas.map((l) => l.lambda);
  assert.ok(DEFAULT_LAMBDAS.every((l) => tried.includes(l)) && tried.length <= DEFAULT_LAMBDAS.length + 2);
  assert.deepEqual(tried, [...tried].sort((a, b) => a - b));
  // Noise sd 0.01 against a signal of sd ~1 per component: the least-shrunk end of the grid wins.
  assert.ok(fit.lambda <= 1e-2, `λ_rel = ${fit.lambda}`);
  assert.ok(fit.validationMse < 1e-3, `validation MSE ${fit.validationMse}`);
  const targets = range(300, n);
  const pred = ridgeEmbeddings(ds, fit, SPECS, D, targets);
  const err = relativeError(pred, truth, targets);
  assert.ok(err < 0.05, `held-out relative error ${err}`);
  for (let i = 0; i < 300 * D; i++) assert.equal(pred[i], 0, 'rows outside targets stay zero');
});

test('RIDGE on pure-noise targets shrinks to the training mean (large λ)', () => {
  const rng = new Rng(12);
  const n = 400;
  const ds = dataset(n, SPECS, rng);
  const posts = Float32Array.from({ length: n * D }, () => rng.gaussian());
  const from = new Uint8Array(n);
  from.fill(1, 0, 320);
  const fit = fitRidge(ds, posts, D, from, SPECS, { seed: 4 });
  // Argmin over one split: with nothing to learn the validation curve is flat at large λ and its minimum lands
  // anywhere in the heavy-shrinkage end (over 30 seeds: 10^4 14 times, 10^1.5 12, 10^1 3, 10^2 once), so the check is
  // λ_rel >= 10 (typical direction shrunk >= 11x) and a validation MSE within 1% of the top of the grid's.
  assert.ok(fit.lambda >= 10, `λ_rel = ${fit.lambda}`);
  const top = fit.lambdas[fit.lambdas.length - 1];
  assert.ok(fit.validationMse <= top.mse && top.mse < fit.validationMse * 1.01);
  const mean = new Float64Array(D);
  for (let i = 0; i < 320; i++) for (let c = 0; c < D; c++) mean[c] += posts[i * D + c] / 320;
  const targets = range(320, n);
  const pred = ridgeEmbeddings(ds, fit, SPECS, D, targets);
  let dev = 0;
  for (const p of targets) for (let c = 0; c < D; c++) dev += (pred[p * D + c] - mean[c]) ** 2;
  const rms = Math.sqrt(dev / (targets.length * D));
  assert.ok(rms < 0.05, `predictions within ${rms} (rms) of the mean, targets have sd 1`);
});

test('primal and dual solves agree and satisfy the normal equations', () => {
  const rng = new Rng(13);
  for (const [m, f] of [[30, 20], [15, 20]]) {
    const d = 5;
    const x = Float32Array.from({ length: m * f }, () => rng.gaussian());
    const y = Float32Array.from({ length: m * d }, () => rng.normal(2, 1));
    for (const penalty of [0.1, 10]) {
      const primal = ridgeSolve(x, y, m, f, d, penalty, 'primal');
      const dual = ridgeSolve(x, y, m, f, d, penalty, 'dual');
      let diff = 0;
      for (let i = 0; i < primal.length; i++) diff = Math.max(diff, Math.abs(primal[i] - dual[i]));
      assert.ok(diff < 1e-6, `m=${m} f=${f} λ=${penalty}: max |primal - dual| = ${diff}`);
      // Normal equations of the centred problem: X̃ᵀ(X̃W - Ỹ) + λW = 0, and b = ȳ - Wᵀx̄ (zero mean residual).
      const xbar = Array.from({ length: f }, (_, j) => Array.from({ length: m }, (_, r) => x[r * f + j]).reduce((s, v) => s + v, 0) / m);
      const resid = new Float64Array(m * d);
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < d; c++) {
          let p = primal[f * d + c];
          for (let j = 0; j < f; j++) p += x[r * f + j] * primal[j * d + c];
          resid[r * d + c] = p - y[r * d + c];
        }
      }
      for (let c = 0; c < d; c++) {
        assert.ok(Math.abs(Array.from({ length: m }, (_, r) => resid[r * d + c]).reduce((s, v) => s + v, 0)) < 1e-8, 'mean residual 0');
        for (let j = 0; j < f; j++) {
          let g = penalty * primal[j * d + c];
          for (let r = 0; r < m; r++) g += (x[r * f + j] - xbar[j]) * resid[r * d + c];
          assert.ok(Math.abs(g) < 1e-8, `gradient ${g} at (${j}, ${c})`);
        }
      }
    }
  }
});

test('missing modalities: no NaN; mean imputation + presence column recover a presence-dependent map', () => {
  const rng = new Rng(14);
  const n = 500;
  const noAudio = (i: number) => i % 3 === 0;
  const ds = dataset(n, SPECS, rng, (i, m) => m === 'audio' && noAudio(i));
  // y = visual W_v + [has audio] audio W_a + [no audio] shift + b: linear in the design (features, presence bits).
  const { truth } = planted(ds, n, SPECS, rng);
  const shift = Array.from({ length: D }, () => rng.normal(0, 2));
  for (let i = 0; i < n; i++) if (noAudio(i)) for (let c = 0; c < D; c++) truth[i * D + c] += shift[c];
  const posts = Float32Array.from(truth, (v) => v + rng.normal(0, 0.01));
  const from = new Uint8Array(n);
  from.fill(1, 0, 400);
  const fit = fitRidge(ds, posts, D, from, SPECS, { seed: 5 });
  for (const v of [...fit.weights, ...fit.mean, ...fit.scale]) assert.ok(Number.isFinite(v));
  const targets = range(400, n);
  const pred = ridgeEmbeddings(ds, fit, SPECS, D, targets);
  assert.ok(pred.every(Number.isFinite));
  const without = Array.from(targets).filter(noAudio);
  const withAudio = Array.from(targets).filter((i) => !noAudio(i));
  const e0 = relativeError(pred, truth, without);
  const e1 = relativeError(pred, truth, withAudio);
  assert.ok(e0 < 0.05 && e1 < 0.05, `relative error without audio ${e0}, with audio ${e1}`);

  // A post with no features at all, and a modality missing from every training post: finite, no NaN.
  const visualOnly = dataset(60, SPECS, new Rng(15), (i, m) => m === 'audio' || (i === 59 && m === 'visual'));
  const y = Float32Array.from({ length: 60 * D }, () => rng.gaussian());
  const fit2 = fitRidge(visualOnly, y, D, new Uint8Array(60).fill(1, 0, 50), SPECS);
  const pred2 = ridgeEmbeddings(visualOnly, fit2, SPECS, D, range(50, 60));
  assert.ok(pred2.every(Number.isFinite));
  assert.ok(fit2.weights.every(Number.isFinite));

  // The same fit as an affine map of the raw features (MEMER's linear prior computes it in its graph): equal to 1e-5.
  const affine = ridgeAffine(fit, D);
  let worst = 0;
  for (const i of targets) {
    const want = Float64Array.from(affine.bias);
    SPECS.forEach((s, b) => {
      const x = (ds.features[s.modality]!.data as Float32Array).subarray(i * s.dim, (i + 1) * s.dim);
      if (x.every((v) => v === 0)) return;
      for (let c = 0; c < D; c++) want[c] += affine.presence[b * D + c];
      for (let k = 0; k < s.dim; k++) for (let c = 0; c < D; c++) want[c] += x[k] * affine.weights[b][k * D + c];
    });
    for (let c = 0; c < D; c++) worst = Math.max(worst, Math.abs(want[c] - pred[i * D + c]) / (1 + Math.abs(pred[i * D + c])));
  }
  assert.ok(worst < 1e-5, `affine form vs ridgeEmbeddings: worst relative difference ${worst}`);
});

test('fitRidge in the dual regimes equals a primal solve of its design, and refuses other specs', () => {
  const rng = new Rng(16);
  const wide: ModalitySpec[] = [{ modality: 'visual', dim: 40 }, { modality: 'text', dim: 16 }];
  // F = 58 > n = 40: dual for the λ choice and the refit. F = 22 <= n = 25 but > the 12 fitting posts of a 50% split:
  // dual for the λ choice, primal refit.
  for (const { specs, train, fraction, solver } of [
    { specs: wide, train: 40, fraction: 0.2, solver: 'dual' },
    { specs: SPECS, train: 25, fraction: 0.5, solver: 'primal' },
  ]) {
    const n = train + 10;
    const ds = dataset(n, specs, rng);
    const { truth } = planted(ds, n, specs, rng);
    const fit = fitRidge(ds, truth, D, new Uint8Array(n).fill(1, 0, train), specs, { lambdas: [0.01, 0.1, 1], validationFraction: fraction });
    assert.equal(fit.solver, solver);
    assert.equal(fit.features, specs.reduce((s, x) => s + x.dim + 1, 0));
    // The design rebuilt from the fit's mean/scale (all modalities present: the presence columns are constant and
    // come out as 0), solved in the primal at the fit's absolute penalty.
    const f = fit.features;
    const x = new Float32Array(train * f);
    for (let i = 0; i < train; i++) {
      const raw = specs.flatMap((s) => [...rawFeatures(ds, i, [s]), 1]);
      raw.forEach((v, j) => (x[i * f + j] = (v - fit.mean[j]) * fit.scale[j]));
    }
    const primal = ridgeSolve(x, truth.subarray(0, train * D), train, f, D, fit.penalty, 'primal');
    let diff = 0;
    for (let i = 0; i < primal.length; i++) diff = Math.max(diff, Math.abs(primal[i] - fit.weights[i]));
    assert.ok(diff < 1e-6, `${solver}: max |primal - fitRidge| = ${diff}`);
    // The validation MSEs (kernel path for the λ choice in both configurations) against primal solves on the same
    // seeded split (default seed 1: the fitting part first, the last round(fraction · n) posts held out).
    const order = new Rng(1).shuffle(range(0, train));
    const nVal = Math.round(fraction * train);
    const nFit = train - nVal;
    const xFit = new Float32Array(nFit * f);
    const yFit = new Float32Array(nFit * D);
    order.subarray(0, nFit).forEach((p, r) => {
      xFit.set(x.subarray(p * f, (p + 1) * f), r * f);
      yFit.set(truth.subarray(p * D, (p + 1) * D), r * D);
    });
    let trace = 0;
    for (let j = 0; j < f; j++) {
      let s = 0;
      let s2 = 0;
      for (let r = 0; r < nFit; r++) (s += xFit[r * f + j]), (s2 += xFit[r * f + j] ** 2);
      trace += s2 - (s * s) / nFit;
    }
    assert.equal(fit.lambdas.length, 3);
    for (const { lambda, mse } of fit.lambdas) {
      const w = ridgeSolve(xFit, yFit, nFit, f, D, (lambda * trace) / Math.min(f, nFit), 'primal');
      let err = 0;
      for (const p of order.subarray(nFit)) {
        for (let c = 0; c < D; c++) {
          let v = w[f * D + c];
          for (let j = 0; j < f; j++) v += x[p * f + j] * w[j * D + c];
          err += (v - truth[p * D + c]) ** 2;
        }
      }
      const expected = err / (nVal * D);
      assert.ok(Math.abs(mse - expected) <= 1e-6 * expected, `${solver} λ_rel ${lambda}: validation MSE ${mse}, primal ${expected}`);
    }
  }
  const ds = dataset(30, wide, rng);
  const y = Float32Array.from({ length: 30 * D }, () => rng.gaussian());
  const fit = fitRidge(ds, y, D, new Uint8Array(30).fill(1, 0, 20), wide);
  assert.throws(() => ridgeEmbeddings(ds, fit, wide.slice(0, 1), D, range(20, 30)), /fitted on visual:40\+text:16/);
  assert.throws(() => fitRidge(ds, y, D, new Uint8Array(30).fill(1, 0, 1), wide), /at least 2 training posts/);
});

test('content PCA: a ridge on the top components, composed back onto the raw inputs, equals its own prediction (1e-5), missing modalities included', () => {
  const rng = new Rng(21);
  const n = 400;
  const specs: ModalitySpec[] = [{ modality: 'visual', dim: 40 }, { modality: 'audio', dim: 6 }];
  const ds = dataset(n, specs, rng, (i, m) => m === 'audio' && i % 4 === 0);
  const { truth } = planted(ds, n, specs, rng);
  const from = new Uint8Array(n).fill(1, 0, 300);
  const reduced = reducedContent(ds, specs, from, 8, 3);
  assert.deepEqual(reduced.specs.map((s) => s.dim), [8, 6], 'visual projected on 8 components, audio kept');
  const fit = fitRidge(reduced.ds, truth, D, from, reduced.specs, { seed: 2 });
  const pred = ridgeEmbeddings(reduced.ds, fit, reduced.specs, D, range(300, n));
  const raw = reduced.compose(ridgeAffine(fit, D), D);
  let worst = 0;
  for (let i = 300; i < n; i++) {
    const want = Float64Array.from(raw.bias);
    specs.forEach((s, b) => {
      const x = (ds.features[s.modality]!.data as Float32Array).subarray(i * s.dim, (i + 1) * s.dim);
      if (x.every((v) => v === 0)) return;
      for (let c = 0; c < D; c++) want[c] += raw.presence[b * D + c];
      for (let k = 0; k < s.dim; k++) for (let c = 0; c < D; c++) want[c] += x[k] * raw.weights[b][k * D + c];
    });
    for (let c = 0; c < D; c++) worst = Math.max(worst, Math.abs(want[c] - pred[i * D + c]) / (1 + Math.abs(pred[i * D + c])));
  }
  assert.ok(worst < 1e-5, `composed vs reduced prediction: worst relative difference ${worst}`);
});
