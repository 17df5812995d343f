import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ffmDataFromColumns, featureSpace, gatherRows, type FfmData } from '../../../src/ml/ffm/data.js';
import { embeddingAuc, ffmEmbeddings } from '../../../src/ml/ffm/embeddings.js';
import { FfmError } from '../../../src/ml/ffm/errors.js';
import { meanLogLoss } from '../../../src/ml/ffm/model.js';
import { ffmParams } from '../../../src/ml/ffm/params.js';
import { syntheticFfmSet } from '../../../src/ml/ffm/synthetic.js';
import { trainFfm } from '../../../src/ml/ffm/train.js';
import { auc } from '../../../src/ml/metrics.js';

/**
 * Recorded references (defaults: k = 32, eta 0.2, lambda 2e-5, normalisation on, early stopping patience 1; seed 3) on
 * syntheticFfmSet({ rows: 60000, users: 400, posts: 150, seed: 7 }), first 48k rows train, last 12k validation:
 *   full-score AUC 0.8346, dot-product AUC 0.8234, planted (Bayes) AUC 0.8610.
 * Produced by `npm test -- test/ml/ffm/train` (the test prints them as diagnostics) on 2026-11-27, Node 20.20.
 */
const REFERENCE = { aucFull: 0.8346, aucDot: 0.8234, oracle: 0.861 } as const;
const TOLERANCE = 0.01;

function plantedSplit(): { train: FfmData; valid: FfmData; truth: Float32Array } {
  const { data, truth } = syntheticFfmSet({ rows: 60_000, users: 400, posts: 150, seed: 7 });
  const nTrain = 48_000;
  return {
    train: gatherRows(data, Int32Array.from({ length: nTrain }, (_, i) => i)),
    valid: gatherRows(data, Int32Array.from({ length: data.rows - nTrain }, (_, i) => nTrain + i)),
    truth: truth.subarray(nTrain),
  };
}

test('planted factors are recovered: validation AUC at least the recorded reference minus 0.01', async (t) => {
  const { train, valid, truth } = plantedSplit();
  const oracle = auc(truth, valid.labels);
  const model = await trainFfm(train, { params: { seed: 3 }, validation: valid });
  const r = embeddingAuc(model, valid);
  t.diagnostic(`planted AUC ${oracle.toFixed(4)}; FFM full ${r.aucFull.toFixed(4)}, dot ${r.aucDot.toFixed(4)}; best epoch ${model.bestEpoch}`);
  assert.ok(Math.abs(oracle - REFERENCE.oracle) < 1e-3, 'the synthetic set itself is unchanged');
  assert.ok(r.aucFull >= REFERENCE.aucFull - TOLERANCE, `full AUC ${r.aucFull}`);
  assert.ok(r.aucDot >= REFERENCE.aucDot - TOLERANCE, `dot AUC ${r.aucDot}`);
  assert.ok(r.aucFull <= oracle + TOLERANCE, 'cannot beat the planted probabilities');
  const e = ffmEmbeddings(model);
  assert.equal(e.users.length, 400 * 32);
  assert.equal(e.posts.length, 150 * 32);
});

test('one thread with a seed is deterministic; another seed differs', async () => {
  const { train, valid } = plantedSplit();
  const params = { seed: 11, epochs: 3 };
  const a = await trainFfm(train, { params, validation: valid });
  const b = await trainFfm(train, { params, validation: valid });
  const c = await trainFfm(train, { params: { ...params, seed: 12 }, validation: valid });
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(a.history.map((h) => h.validLoss), b.history.map((h) => h.validLoss));
  assert.notDeepEqual(a.weights, c.weights);
});

test('two Hogwild worker threads reach the one-thread AUC (tolerance 0.01)', async () => {
  const { train, valid } = plantedSplit();
  const model = await trainFfm(train, { params: { seed: 3, threads: 2 }, validation: valid });
  assert.ok(model.weights.buffer instanceof SharedArrayBuffer);
  assert.ok(embeddingAuc(model, valid).aucFull >= REFERENCE.aucFull - TOLERANCE);
});

test('early stopping keeps the best epoch, and the returned weights are that epoch\'s', async () => {
  // A tiny training set and a large step overfit quickly, so validation loss rises after a few epochs.
  const { train, valid } = plantedSplit();
  const small = gatherRows(train, Int32Array.from({ length: 3000 }, (_, i) => i));
  const model = await trainFfm(small, { params: { seed: 5, epochs: 30, eta: 0.5, lambda: 0, patience: 3 }, validation: valid });
  const losses = model.history.map((h) => h.validLoss as number);
  const best = losses.indexOf(Math.min(...losses)) + 1;
  assert.equal(model.bestEpoch, best);
  assert.ok(model.history.length < 30 && model.history.length === best + 3, `stopped after ${model.history.length} epochs`);
  assert.ok(Math.abs(meanLogLoss(model.weights, valid, model.params) - losses[best - 1]) < 1e-9);
});

test('explicit negatives are learnt: all-zero labels for one post drive its scores down', async () => {
  const space = featureSpace([{ name: 'user', size: 20 }, { name: 'post', size: 2 }]);
  const users: number[] = [], posts: number[] = [], labels: number[] = [];
  for (let r = 0; r < 40; r++) for (let u = 0; u < 20; u++) for (let p = 0; p < 2; p++) {
    users.push(u);
    posts.push(p);
    labels.push(p === 0 ? 1 : 0);
  }
  const data = ffmDataFromColumns(space, { user: users, post: posts }, labels);
  const model = await trainFfm(data, { params: { epochs: 5, k: 4 } });
  assert.equal(embeddingAuc(model, data).aucFull, 1);
});

test('bad input gives a typed FfmError', async () => {
  const space = featureSpace([{ name: 'user', size: 2 }, { name: 'post', size: 2 }]);
  const code = (c: string) => (e: unknown) => e instanceof FfmError && e.code === c;
  assert.throws(() => ffmDataFromColumns(space, { user: [0], weather: [1] }, [1]), code('UNKNOWN_FIELD'));
  assert.throws(() => ffmDataFromColumns(space, { user: [], post: [] }, []), code('EMPTY_DATA'));
  assert.throws(() => ffmDataFromColumns(space, { user: [0], post: [NaN] }, [1]), code('NON_FINITE'));
  assert.throws(() => ffmDataFromColumns(space, { user: [0], post: [1] }, [NaN]), code('NON_FINITE'));
  assert.throws(() => ffmDataFromColumns(space, { user: [0], post: [1] }, [2]), code('BAD_LABEL'));
  assert.throws(() => ffmDataFromColumns(space, { user: [0], post: [5] }, [1]), code('BAD_INDEX'));
  assert.throws(() => ffmParams({ k: 0 }), code('BAD_PARAM'));
  assert.throws(() => ffmParams({ eta: NaN }), code('BAD_PARAM'));
  const data = ffmDataFromColumns(space, { user: [0, 1], post: [1, 0] }, [1, 0]);
  await assert.rejects(trainFfm({ ...data, rows: 0, offsets: new Int32Array(1), labels: new Uint8Array(0) }), code('EMPTY_DATA'));
  const bad = { ...data, features: Int32Array.from([0, 2, 1, 9]) };
  await assert.rejects(trainFfm(bad), code('BAD_INDEX'));
  const other = ffmDataFromColumns(featureSpace([{ name: 'user', size: 2 }, { name: 'hour', size: 24 }]), { user: [0], hour: [3] }, [1]);
  await assert.rejects(trainFfm(data, { validation: other }), code('UNKNOWN_FIELD'));
});
