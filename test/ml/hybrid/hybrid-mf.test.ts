import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatsToHalves } from '../../../src/datasets/float16.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { perUserAuc, sampledRows } from '../../../src/ml/hybrid/evaluate.js';
import { denseFeatures, sparseFeatures, type ItemFeatures } from '../../../src/ml/hybrid/features.js';
import { copyParams, initParams, itemVector, type HybridParams } from '../../../src/ml/hybrid/model.js';
import { hybridMfOptions } from '../../../src/ml/hybrid/options.js';
import { principalDirections, symmetricEigen } from '../../../src/ml/hybrid/pca.js';
import { trainHybridMf } from '../../../src/ml/hybrid/train.js';
import { pairGradient, pairRegulariser, pairScratch, pairStep, sigmoid, softplus } from '../../../src/ml/hybrid/update.js';
import { Rng } from '../../../src/lib/random.js';

/** A dataset with the given tags per item, a float32 "visual" and a float16 "audio" matrix, and interactions. */
function dataset(args: {
  users: number; tags: number[][]; tagCount: number; visual: number[][]; audio: number[][];
  rows: { user: number; item: number; label: number }[];
}): Dataset {
  const n = args.tags.length;
  const tagOffsets = new Int32Array(n + 1);
  args.tags.forEach((t, i) => (tagOffsets[i + 1] = tagOffsets[i] + t.length));
  const L = args.rows.length;
  const vd = args.visual[0].length;
  const ad = args.audio[0].length;
  return {
    name: 'planted',
    items: {
      ids: Array.from({ length: n }, (_, i) => `i${i}`), createdAt: new Float64Array(n), mediaType: new Uint8Array(n),
      tagNames: Array.from({ length: args.tagCount }, (_, t) => `t${t}`), tagOffsets, tagIds: Int32Array.from(args.tags.flat()), text: new Array(n).fill(''),
    },
    userIds: Array.from({ length: args.users }, (_, u) => `u${u}`),
    signals: ['click'],
    interactions: {
      length: L, user: Int32Array.from(args.rows, (r) => r.user), item: Int32Array.from(args.rows, (r) => r.item),
      signal: new Uint8Array(L), label: Uint8Array.from(args.rows, (r) => r.label), time: new Float64Array(L),
    },
    features: {
      visual: { rows: n, dim: vd, dtype: 'float32', data: Float32Array.from(args.visual.flat()) },
      audio: { rows: n, dim: ad, dtype: 'float16', data: floatsToHalves(args.audio.flat(), new Uint16Array(n * ad)) },
    },
  };
}

/** 3 users, 5 items (item 4 has no audio), 3 tags; items 0-2 warm (id features), 3-4 cold. */
function tinyFeatures(): { ds: Dataset; f: ItemFeatures } {
  const rng = new Rng(3);
  const ds = dataset({
    users: 3, tagCount: 3, tags: [[0, 1], [1], [2], [0], []],
    visual: Array.from({ length: 5 }, () => Array.from({ length: 4 }, () => rng.normal(0, 1))),
    audio: Array.from({ length: 5 }, (_, i) => (i === 4 ? [0, 0, 0] : Array.from({ length: 3 }, () => rng.normal(1, 2)))),
    rows: [],
  });
  const warm = Uint8Array.from([1, 1, 1, 0, 0]);
  const f: ItemFeatures = { items: 5, sparse: sparseFeatures(ds, warm, { tags: true, idFeature: true }), dense: denseFeatures(ds, warm, { modalities: null, denseDims: null, denseNorm: 1, seed: 1 }) };
  return { ds, f };
}

function randomParams(f: ItemFeatures, d: number, seed: number): HybridParams {
  const p = initParams(3, f.sparse.count, f.dense.dim, d, 8, seed); // embeddings ~ U(-1, 1): no term is negligible
  const rng = new Rng(seed + 1);
  for (let k = 0; k < p.vb.length; k++) p.vb[k] = rng.normal(0, 0.5);
  for (let k = 0; k < p.wb.length; k++) p.wb[k] = rng.normal(0, 0.5);
  return p;
}

/** s(u,i) = p_u . q_i + b_i through model.ts (not the training kernel). */
function score(p: HybridParams, f: ItemFeatures, u: number, i: number): number {
  const q = new Float64Array(p.d);
  const b = itemVector(p, f, i, q);
  let s = b;
  for (let a = 0; a < p.d; a++) s += p.P[u * p.d + a] * q[a];
  return s;
}

const ALPHA_I = 0.03;
const ALPHA_U = 0.02;
const ABS_TOL = 1e-5;
const REL_TOL = 1e-4;

/**
 * Central differences on every parameter the pair's gradient names (step h = 1e-3, taken as the float32 difference it
 * really is), against pairGradient; |analytic - numeric| <= 1e-5 + 1e-4 |analytic| (the losses are evaluated in
 * float64 from float32 parameters, so the truncation error O(h^2) dominates and is far below that).
 */
function checkGradient(loss: (p: HybridParams) => number, p: HybridParams, g: ReturnType<typeof pairGradient>, u: number): number {
  const d = p.d;
  let checked = 0;
  const check = (arr: Float32Array, at: number, analytic: number, what: string) => {
    const orig = arr[at];
    arr[at] = orig + 1e-3;
    const hi = arr[at];
    const lp = loss(p);
    arr[at] = orig - 1e-3;
    const lo = arr[at];
    const lm = loss(p);
    arr[at] = orig;
    const numeric = (lp - lm) / (hi - lo);
    assert.ok(Math.abs(analytic - numeric) <= ABS_TOL + REL_TOL * Math.abs(analytic), `${what}: analytic ${analytic} vs numeric ${numeric}`);
    checked++;
  };
  for (let a = 0; a < d; a++) check(p.P, u * d + a, g.P[a], `P[${u}][${a}]`);
  g.ids.forEach((id, k) => {
    for (let a = 0; a < d; a++) check(p.V, id * d + a, g.V[k][a], `V[${id}][${a}]`);
    check(p.vb, id, g.vb[k], `vb[${id}]`);
  });
  for (let e = 0; e < p.W.length; e++) check(p.W, e, g.W[e], `W[${e}]`);
  for (let k = 0; k < p.dense; k++) check(p.wb, k, g.wb[k], `wb[${k}]`);
  return checked;
}

test('BPR pair gradient matches finite differences (shared tag, warm positive, cold negative without audio)', () => {
  const { f } = tinyFeatures();
  const p = randomParams(f, 4, 5);
  const [u, i, j] = [1, 0, 3]; // items 0 and 3 share tag 0
  const loss = (q: HybridParams) => softplus(score(q, f, u, j) - score(q, f, u, i)) + pairRegulariser(q, f, u, i, j, ALPHA_I, ALPHA_U);
  const c = sigmoid(score(p, f, u, j) - score(p, f, u, i));
  const g = pairGradient(p, f, u, i, j, c, ALPHA_I, ALPHA_U);
  assert.deepEqual([...g.ids].sort(), [0, 1, 3]); // tags 0, 1 and item 0's id feature (3 = tagCount + 0)
  assert.ok(checkGradient(loss, p, g, u) > 30);
});

test('WARP per-pair hinge gradient matches finite differences (rank weight held fixed)', () => {
  const { f } = tinyFeatures();
  const p = randomParams(f, 4, 9);
  const [u, i, j] = [2, 1, 4];
  // Make the pair violate the margin by a wide berth, so the hinge is linear around the point.
  p.vb[f.sparse.idOf[i]] -= 5;
  const hinge = 1 - score(p, f, u, i) + score(p, f, u, j);
  assert.ok(hinge > 1, `hinge ${hinge}`);
  const L = 3.7;
  const loss = (q: HybridParams) => L * Math.max(0, 1 - score(q, f, u, i) + score(q, f, u, j)) + pairRegulariser(q, f, u, i, j, ALPHA_I, ALPHA_U);
  const g = pairGradient(p, f, u, i, j, L, ALPHA_I, ALPHA_U);
  assert.ok(checkGradient(loss, p, g, u) > 30);
});

test('pairStep is Adagrad on pairGradient (G += g^2, theta -= lr g / sqrt(G))', () => {
  const { f } = tinyFeatures();
  const p = randomParams(f, 4, 11);
  for (const G of [p.GP, p.GV, p.Gvb, p.GW, p.Gwb]) for (let k = 0; k < G.length; k++) G[k] = 1 + k / 7;
  const [u, i, j, c, lr] = [0, 2, 0, 0.8, 0.05];
  const g = pairGradient(p, f, u, i, j, c, ALPHA_I, ALPHA_U);
  const before = copyParams(p);
  pairStep(p, f, u, i, j, c, ALPHA_I, ALPHA_U, lr, pairScratch(p, f));
  const expect = (theta: Float32Array, G: Float32Array, t0: Float32Array, G0: Float32Array, at: number, grad: number) => {
    const acc = G0[at] + grad * grad;
    assert.ok(Math.abs(G[at] - acc) < 1e-5, `accumulator ${at}`);
    assert.ok(Math.abs(theta[at] - (t0[at] - (lr * grad) / Math.sqrt(acc))) < 1e-6, `parameter ${at}`);
  };
  for (let a = 0; a < p.d; a++) expect(p.P, p.GP, before.P, before.GP, u * p.d + a, g.P[a]);
  g.ids.forEach((id, k) => {
    for (let a = 0; a < p.d; a++) expect(p.V, p.GV, before.V, before.GV, id * p.d + a, g.V[k][a]);
    expect(p.vb, p.Gvb, before.vb, before.Gvb, id, g.vb[k]);
  });
  for (let e = 0; e < p.W.length; e++) expect(p.W, p.GW, before.W, before.GW, e, g.W[e]);
  for (let k = 0; k < p.dense; k++) expect(p.wb, p.Gwb, before.wb, before.Gwb, k, g.wb[k]);
  // A sparse feature neither item has (item 1's id) is untouched.
  assert.equal(f.sparse.idOf[1], 4);
  assert.deepEqual([...p.V.subarray(4 * p.d, 5 * p.d)], [...before.V.subarray(4 * p.d, 5 * p.d)]);
});

test('item features: tags 1/sqrt(n), id only for warm items, z-scored blocks of RMS norm 1, a missing modality stays zero', () => {
  const { f } = tinyFeatures();
  assert.equal(f.sparse.count, 3 + 3);
  assert.deepEqual([...f.sparse.idOf], [3, 4, 5, -1, -1]);
  assert.deepEqual([...f.sparse.ids.subarray(f.sparse.offsets[0], f.sparse.offsets[1])], [0, 1, 3]);
  assert.ok(Math.abs(f.sparse.values[f.sparse.offsets[0]] - Math.SQRT1_2) < 1e-6);
  assert.equal(f.sparse.offsets[5] - f.sparse.offsets[4], 0); // item 4: no tags, cold
  assert.deepEqual(f.dense.blocks.map((b) => [b.modality, b.offset, b.dims]), [['visual', 0, 4], ['audio', 4, 3]]);
  const D = f.dense.dim;
  assert.deepEqual([...f.dense.data.subarray(4 * D + 4, 5 * D)], [0, 0, 0]);
  for (const b of f.dense.blocks) {
    let ms = 0;
    for (let i = 0; i < 3; i++) for (let c = 0; c < b.dims; c++) ms += f.dense.data[i * D + b.offset + c] ** 2;
    assert.ok(Math.abs(Math.sqrt(ms / 3) - 1) < 1e-5, `${b.modality} block RMS over the warm items`);
    for (let c = 0; c < b.dims; c++) {
      let mean = 0;
      for (let i = 0; i < 3; i++) mean += f.dense.data[i * D + b.offset + c];
      assert.ok(Math.abs(mean) < 1e-5, `${b.modality} column ${c} centred on the warm items`);
    }
  }
});

test('principalDirections matches the exact eigenvectors of the covariance (Gram and X-iteration paths)', () => {
  for (const D of [20, 600]) {
    const rng = new Rng(4);
    const m = D === 20 ? 2000 : 700;
    // Ten columns with decaying scales and a shared factor (distinct leading eigenvalues), the rest faint noise.
    const x = new Float32Array(m * D);
    for (let r = 0; r < m; r++) {
      const common = rng.gaussian();
      for (let k = 0; k < D; k++) x[r * D + k] = k < 10 ? rng.normal(0, 3 / (1 + k)) + (k < 5 ? common : 0) : rng.normal(0, 0.01);
    }
    const k = 3;
    const pd = principalDirections(x, m, D, k, 1);
    // Reference: the Jacobi eigen-decomposition of the first 20 columns' covariance, where the top directions live.
    const cols = 20;
    const c = new Float64Array(cols * cols);
    for (let r = 0; r < m; r++) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) c[a * cols + b] += (x[r * D + a] * x[r * D + b]) / m;
    const ref = symmetricEigen(c, cols);
    const order = Array.from({ length: cols }, (_, i) => i).sort((a, b) => ref.values[b] - ref.values[a]);
    for (let e = 0; e < k; e++) {
      let dot = 0;
      for (let a = 0; a < cols; a++) dot += ref.vectors[a * cols + order[e]] * pd.vectors[e * D + a];
      assert.ok(Math.abs(dot) > 0.999, `D=${D} direction ${e}: |cos| ${Math.abs(dot)}`);
      assert.ok(Math.abs(pd.variances[e] - ref.values[order[e]]) < 2e-2 * ref.values[order[e]], `D=${D} variance ${e}: ${pd.variances[e]} vs ${ref.values[order[e]]}`);
    }
  }
});

test('perUserAuc weights each user by rows and skips users without both labels', () => {
  const users = Int32Array.from([0, 0, 0, 1, 1, 2]);
  const scores = [3, 1, 2, 0, 1, 5];
  const labels = Uint8Array.from([1, 0, 0, 1, 0, 1]);
  // user 0: AUC 1 over 3 rows; user 1: AUC 0 over 2 rows; user 2: positives only (skipped)
  assert.deepEqual(perUserAuc(users, scores, labels), { gauc: 3 / 5, users: 2 });
});

test('options are checked', () => {
  assert.throws(() => hybridMfOptions({ loss: 'hinge' as never }), /loss/);
  assert.throws(() => hybridMfOptions({ validationFraction: 1 }), /validationFraction/);
  assert.throws(() => hybridMfOptions({ denseDims: 0 }), /denseDims/);
  assert.equal(hybridMfOptions({}).d, 32);
});

/**
 * The planted hybrid world: item latent v_i = A x_i (dense features, visual float32 + audio float16) + the sum of its
 * tags' effects; user latent w_u ~ N(0, I); each user picks 12 items with probability ~ exp(beta w_u . v_i) (Gumbel
 * top-k). 20% of the items are cold (all their interactions left out of training); a few explicit negatives ride along
 * in the training indices and must be skipped.
 */
function plantedWorld(seed: number, scramble = false) {
  const rng = new Rng(seed);
  const U = 300;
  const N = 500;
  const K = 4;
  const dims = { visual: 12, audio: 6 };
  const T = 10;
  const A = Array.from({ length: K }, () => Array.from({ length: dims.visual + dims.audio }, () => rng.normal(0, 1 / Math.sqrt(dims.visual + dims.audio))));
  const tagEffect = Array.from({ length: T }, () => Array.from({ length: K }, () => rng.normal(0, 0.5)));
  const visual = Array.from({ length: N }, () => Array.from({ length: dims.visual }, () => rng.normal(0, 1)));
  const audio = Array.from({ length: N }, () => Array.from({ length: dims.audio }, () => rng.normal(2, 0.5)));
  const tags = Array.from({ length: N }, () => {
    const a = rng.int(T);
    const b = rng.int(T);
    return a === b ? [a] : [a, b];
  });
  const latent = Array.from({ length: N }, (_, i) => {
    const x = [...visual[i], ...audio[i].map((v) => (v - 2) / 0.5)];
    return Array.from({ length: K }, (_, k) => A[k].reduce((s, w, c) => s + w * x[c], 0) + tags[i].reduce((s, t) => s + tagEffect[t][k], 0));
  });
  const rows: { user: number; item: number; label: number }[] = [];
  const beta = 1.2;
  for (let u = 0; u < U; u++) {
    const w = Array.from({ length: K }, () => rng.normal(0, 1));
    const keys = latent.map((v, i) => ({ i, key: beta * v.reduce((s, x, k) => s + x * w[k], 0) - Math.log(-Math.log(rng.next() || 1e-12)) }));
    keys.sort((a, b) => b.key - a.key);
    for (const { i } of keys.slice(0, 12)) rows.push({ user: u, item: i, label: 1 });
    rows.push({ user: u, item: keys[N - 1].i, label: 0 });
  }
  // scramble: each item gets another item's features and tags, so content says nothing about the choices.
  const shown = scramble ? rng.shuffle(Int32Array.from({ length: N }, (_, i) => i)) : Int32Array.from({ length: N }, (_, i) => i);
  const ds = dataset({ users: U, tags: Array.from(shown, (i) => tags[i]), tagCount: T, visual: Array.from(shown, (i) => visual[i]), audio: Array.from(shown, (i) => audio[i]), rows });
  const cold = new Uint8Array(N);
  const perm = rng.shuffle(Int32Array.from({ length: N }, (_, i) => i));
  for (let k = 0; k < N / 5; k++) cold[perm[k]] = 1;
  const train: number[] = [];
  const testU: number[] = [];
  const testI: number[] = [];
  const known = new Set<number>();
  rows.forEach((r, k) => {
    if (r.label === 1) known.add(r.user * N + r.item);
    if (!cold[r.item]) train.push(k);
    else if (r.label === 1) {
      testU.push(r.user);
      testI.push(r.item);
    }
  });
  const coldItems = Int32Array.from({ length: N }, (_, i) => i).filter((i) => cold[i]);
  const evalRows = sampledRows(testU, testI, coldItems, 4, (u, j) => known.has(u * N + j), seed + 7);
  return { ds, train: Int32Array.from(train), evalRows, explicitNegativesInTrain: train.filter((k) => rows[k].label === 0).length };
}

for (const loss of ['warp', 'bpr'] as const) {
  test(`planted hybrid world: ${loss.toUpperCase()} ranks cold items far above GLOBAL_AVG (per-user AUC, 2 seeds)`, () => {
    for (const seed of [1, 2]) {
      const w = plantedWorld(seed);
      const t0 = performance.now();
      const model = trainHybridMf(w.ds, w.train, { loss, d: 16, epochs: 25, seed, lr: 0.05 });
      const seconds = (performance.now() - t0) / 1000;
      const r = w.evalRows;
      const ours = perUserAuc(r.user, model.score(r.user, r.item), r.label);
      // GLOBAL_AVG: every cold item gets the same vector, so within a user all cold items tie (AUC 0.5) ...
      const globalAvg = perUserAuc(r.user, Float64Array.from(r.user, (u) => u * 0.01), r.label).gauc;
      // ... and the best it could add is an item bias: here the model's own content-predicted bias b_i.
      const biasOnly = perUserAuc(r.user, Float64Array.from(r.item, (i) => model.itemBias[i]), r.label).gauc;
      const info = model.info as { skippedExplicitNegatives: number; bestEpoch: number; validationGauc: number };
      assert.equal(info.skippedExplicitNegatives, w.explicitNegativesInTrain);
      assert.equal(globalAvg, 0.5);
      assert.ok(ours.users > 150, `users evaluated: ${ours.users}`);
      assert.ok(ours.gauc > 0.7, `seed ${seed}: cold GAUC ${ours.gauc.toFixed(3)} (bias only ${biasOnly.toFixed(3)}, best epoch ${info.bestEpoch}, validation ${info.validationGauc.toFixed(3)}, ${seconds.toFixed(1)} s)`);
      assert.ok(ours.gauc > biasOnly + 0.1, `seed ${seed}: cold GAUC ${ours.gauc.toFixed(3)} vs bias only ${biasOnly.toFixed(3)}`);
    }
  });
}

test('control: with content unrelated to the choices, cold items rank at chance', () => {
  const w = plantedWorld(1, true);
  const model = trainHybridMf(w.ds, w.train, { loss: 'warp', d: 16, epochs: 25, seed: 1 });
  const r = w.evalRows;
  const g = perUserAuc(r.user, model.score(r.user, r.item), r.label).gauc;
  assert.ok(Math.abs(g - 0.5) < 0.06, `cold GAUC ${g.toFixed(3)}`);
});

test('same seed, same model; bad input is refused', () => {
  const w = plantedWorld(3);
  const o = { loss: 'bpr' as const, d: 8, epochs: 3, validationFraction: 0, seed: 5 };
  const a = trainHybridMf(w.ds, w.train, o);
  const b = trainHybridMf(w.ds, w.train, o);
  const r = w.evalRows;
  assert.deepEqual(a.score(r.user, r.item), b.score(r.user, r.item));
  assert.equal((a.info as { epochs: number }).epochs, 3);
  assert.throws(() => a.score(Int32Array.of(0), Int32Array.of(10_000)), /outside/);
  assert.throws(() => trainHybridMf(w.ds, Int32Array.of(), o), /no positive/);
  const signal = w.ds.interactions.signal.slice();
  signal[w.train[1]] = 1;
  const mixed = { ...w.ds, signals: ['click', 'like'], interactions: { ...w.ds.interactions, signal } };
  assert.throws(() => trainHybridMf(mixed, w.train, o), /mixes signals/);
});
