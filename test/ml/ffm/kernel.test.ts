import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FfmDataBuilder, featureSpace, type FfmData } from '../../../src/ml/ffm/data.js';
import { featureStride, rowGradient, rowLogit, softplus, trainSpan } from '../../../src/ml/ffm/kernel.js';
import { rng } from '../../../src/lib/random.js';

const m = 3, k = 4;
const space = featureSpace([{ name: 'user', size: 3 }, { name: 'post', size: 4 }, { name: 'tags', size: 5 }]);

/** Rows: unit values; a multi-valued tags field with non-unit values; non-unit values, one entry per field. */
function rows(): FfmData {
  const b = new FfmDataBuilder(space, 3);
  b.add(0, 1); b.add(1, 2); b.add(2, 0);
  b.endRow(1);
  b.add(0, 2, 0.5); b.add(1, 3, 1.5); b.add(2, 1, 0.75); b.add(2, 4, 0.25);
  b.endRow(0);
  b.add(0, 0, 0.5); b.add(1, 1, 1.5); b.add(2, 3, 0.75);
  b.endRow(0);
  return b.build();
}

/** Weights on a 2^-12 grid so that w +- 2^-10 is exact in float32: finite differences then see no rounding. */
function gridWeights(seed: number): Float32Array {
  const r = rng(seed);
  const W = new Float32Array(space.numFeatures * featureStride(m, k));
  for (let i = 0; i < W.length; i++) W[i] = Math.round(r.uniform(-0.5, 0.5) * 4096) / 4096;
  return W;
}

/** The objective rowGradient differentiates: loss + lambda/2 sum over touched pairs of |w_{j1,f2}|^2 + |w_{j2,f1}|^2. */
function objective(W: Float32Array, d: FfmData, i: number, lambda: number, normalize: boolean): number {
  const y = d.labels[i] === 1 ? 1 : -1;
  let reg = 0;
  for (let a = d.offsets[i]; a < d.offsets[i + 1]; a++) {
    for (let b = a + 1; b < d.offsets[i + 1]; b++) {
      const wa = (d.features[a] * m + d.fields[b]) * 2 * k, wb = (d.features[b] * m + d.fields[a]) * 2 * k;
      for (let c = 0; c < k; c++) reg += W[wa + c] ** 2 + W[wb + c] ** 2;
    }
  }
  return softplus(-y * rowLogit(W, d, i, m, k, normalize)) + (lambda / 2) * reg;
}

for (const normalize of [true, false]) {
  test(`gradient matches central finite differences (normalize=${normalize}; tolerance 1e-6 absolute)`, () => {
    const d = rows();
    const lambda = 0.01;
    for (let i = 0; i < d.rows; i++) {
      const W = gridWeights(10 + i);
      const g = new Float64Array(W.length);
      rowGradient(W, d, i, m, k, lambda, normalize, g);
      const h = 2 ** -10;
      let checked = 0;
      for (let a = d.offsets[i]; a < d.offsets[i + 1]; a++) {
        for (let f = 0; f < m; f++) {
          for (let c = 0; c < k; c++) {
            const at = (d.features[a] * m + f) * 2 * k + c;
            const w0 = W[at];
            W[at] = w0 + h;
            const up = objective(W, d, i, lambda, normalize);
            W[at] = w0 - h;
            const down = objective(W, d, i, lambda, normalize);
            W[at] = w0;
            const numeric = (up - down) / (2 * h);
            assert.ok(Math.abs(numeric - g[at]) < 1e-6, `row ${i} weight ${at}: analytic ${g[at]} numeric ${numeric}`);
            if (g[at] !== 0) checked++;
          }
        }
      }
      assert.ok(checked >= 3 * k, 'the row touches weights with non-zero gradient');
    }
  });
}

test('the fused kernel step equals AdaGrad applied to the checked gradient (tolerance 2e-6 relative)', () => {
  const d = rows();
  const eta = 0.3, lambda = 0.02;
  // Row 1 is left out: there w_{user,tags} takes part in two pairs, and the kernel (like libffm) applies the two
  // pair updates one after the other rather than summing them.
  for (const i of [0, 2]) {
    const W = gridWeights(20 + i);
    for (let b = 0; b < W.length; b += 2 * k) for (let c = 0; c < k; c++) W[b + k + c] = 1 + (c % 3); // G
    const g = new Float64Array(W.length);
    rowGradient(W, d, i, m, k, lambda, true, g);
    const expected = Float64Array.from(W);
    for (let b = 0; b < W.length; b += 2 * k) {
      for (let c = 0; c < k; c++) {
        const gi = g[b + c];
        if (gi === 0) continue;
        expected[b + k + c] += gi * gi;
        expected[b + c] -= (eta * gi) / Math.sqrt(expected[b + k + c]);
      }
    }
    const loss = trainSpan(W, d, d.maxRowLength, i, i + 1, m, k, eta, lambda, true);
    assert.ok(Math.abs(loss - objective(gridWeights(20 + i), d, i, 0, true)) < 1e-9, 'returns the pre-update loss');
    for (let at = 0; at < W.length; at++) {
      assert.ok(Math.abs(W[at] - expected[at]) <= 2e-6 * Math.max(1, Math.abs(expected[at])), `weight ${at}: ${W[at]} vs ${expected[at]}`);
    }
  }
});

test('softplus is stable for large arguments', () => {
  assert.equal(softplus(1000), 1000);
  assert.ok(softplus(-1000) >= 0 && softplus(-1000) < 1e-300);
  assert.ok(Math.abs(softplus(0) - Math.LN2) < 1e-15);
});
