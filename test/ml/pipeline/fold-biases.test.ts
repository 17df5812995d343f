/**
 * trainPipeline with ffm.biases and foldBiases: the served vectors are the bias-folded k + 2 ones (docs/ffm.md), d
 * flows into MEMER's output, and memerUsers(users) . posts is the backbone's own logit.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../../src/datasets/read.js';
import { simulate } from '../../../src/datasets/simulator/index.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { trainBackbones } from '../../../src/ml/ffm/backbones.js';
import { MemerEmbedder } from '../../../src/ml/memer/inference.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { pipelineOptions, postFeatureVectors, postTagNames, trainPipeline } from '../../../src/ml/pipeline/index.js';
import { memerUsers } from '../../../src/ml/pipeline/train.js';
import { withInteractions } from '../../../src/ml/pipeline/subset.js';
import { trainHybridMf } from '../../../src/ml/hybrid/train.js';

let dir = '';
let ds: Dataset;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memer-fold-'));
  await simulate(dir, { seed: 3, users: 150, posts: 500, interactions: 40_000, dims: { videoVisual: 8, imageVisual: 10, audio: 4, text: 4 }, rates: { click: 0.3, likeGivenClick: 0.5 }, writeLatent: false });
  ds = await readDataset(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('foldBiases: d = k + 2 in the posts, users and MEMER output; the folded dot product is the backbone logit', async () => {
  const ffm = { epochs: 3, biases: true, init: 'normal' as const };
  const r = await trainPipeline(ds, { signals: ['click'], backbone: 'ffm', ffm, foldBiases: true, minMaturePosts: 40, memer: { training: { maxEpochs: 2 } } });
  const click = r.signals[0];
  assert.equal(click.d, 34);
  assert.equal(click.posts.length, ds.items.ids.length * 34);
  assert.equal(click.users.length, ds.userIds.length * 34);
  const f = click.ffm[0];
  assert.ok(f.aucFolded !== null && f.aucFull !== null && Math.abs(f.aucFolded - f.aucFull) < 1e-6, `folded ${f.aucFolded}, full ${f.aucFull}`);
  // The same backbone again (same seed and options): its logit for (u, p) is r (users_u . posts_p) = memerUsers(users) . posts.
  const [b] = await trainBackbones(ds, { signals: ['click'], params: { ...pipelineOptions().ffm, ...ffm, seed: 1 }, validationFraction: 0.1 });
  const u = memerUsers(click.users, r.options);
  const W = b.model.weights, k = 32, m = 2, base = b.model.space.numFeatures * m * 2 * k;
  const postField = b.model.space.offsets[1];
  for (const [user, post] of [[0, 0], [3, 17], [42, 101], [149, 499]]) {
    let dot = 0;
    for (let j = 0; j < 34; j++) dot += u[user * 34 + j] * click.posts[post * 34 + j];
    let vv = 0;
    const pf = postField + post;
    for (let j = 0; j < k; j++) vv += W[(user * m + 1) * 2 * k + j] * W[(pf * m + 0) * 2 * k + j];
    const logit = vv / 2 + W[base] + W[base + 2 + 2 * user] + W[base + 2 + 2 * pf];
    assert.ok(Math.abs(dot - logit) < 1e-5, `(${user}, ${post}): ${dot} vs ${logit}`);
  }
  const runtime = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    const media = click.media.video!;
    assert.ok(media.memer, media.memerSkipped ?? '');
    const e = await MemerEmbedder.load(runtime, media.memer.info.version, media.memer.onnx);
    const item = ds.items.mediaType.indexOf(0);
    const v = await e.embed({ features: postFeatureVectors(ds, item, media.memer.modalities), freq: 0, tags: postTagNames(ds, item) });
    assert.equal(v.length, 34);
  } finally {
    await runtime.dispose();
  }
});

test('foldBiases needs ffm.biases; ffmSearch needs validation rows', () => {
  assert.throws(() => pipelineOptions({ backbone: 'ffm', foldBiases: true }), /foldBiases/);
  assert.equal(pipelineOptions({ backbone: 'ffm', foldBiases: true, ffm: { biases: true } }).foldBiases, true);
  assert.throws(() => pipelineOptions({ foldBiases: true, ffm: { biases: true } }), /hybrid/);
  assert.throws(() => pipelineOptions({ ffmSearch: { lambda: [1e-4] }, ffmValidationFraction: 0 }), /ffmSearch/);
  assert.equal(pipelineOptions().foldBiases, false);
  assert.equal(pipelineOptions().ffmSearch, null);
});

test("backbone 'hybrid': users . posts is the hybrid model's score (1e-5), an item without training positives is its content vector, and MEMER with the linear prior serves d = k + 1", async () => {
  // Hold out the interactions of every 10th post: those posts are cold for the backbone.
  const keep = Int32Array.from({ length: ds.interactions.length }, (_, i) => i).filter((i) => ds.interactions.item[i] % 10 !== 0);
  const fit = withInteractions(ds, keep);
  const hybrid = { epochs: 3, validationFraction: 0 };
  const r = await trainPipeline(fit, { signals: ['click'], backbone: 'hybrid', hybrid, minMaturePosts: 40, memer: { architecture: { prior: 'linear' }, training: { maxEpochs: 2 } } });
  const click = r.signals[0];
  assert.equal(click.backbone, 'hybrid');
  assert.equal(click.d, 33);
  const s = ds.signals.indexOf('click');
  const clicks = Int32Array.from(keep).filter((i) => fit.interactions.signal[i] === s);
  const model = trainHybridMf(fit, Int32Array.from({ length: fit.interactions.length }, (_, i) => i).filter((i) => fit.interactions.signal[i] === s), { ...hybrid, seed: 1 });
  assert.ok(clicks.length > 0);
  const pairs = [[0, 0], [3, 17], [42, 101], [149, 499], [7, 10], [8, 20]];
  const want = model.score(Int32Array.from(pairs, (p) => p[0]), Int32Array.from(pairs, (p) => p[1]));
  pairs.forEach(([user, post], k) => {
    let dot = 0;
    for (let j = 0; j < 33; j++) dot += click.users[user * 33 + j] * click.posts[post * 33 + j];
    assert.ok(Math.abs(dot - want[k]) < 1e-5 * (1 + Math.abs(want[k])), `(${user}, ${post}): ${dot} vs ${want[k]}`);
  });
  for (const post of [0, 10, 20, 490]) {
    for (let j = 0; j < 33; j++) assert.ok(Math.abs(click.contentPosts![post * 33 + j] - click.posts[post * 33 + j]) < 1e-6, `cold post ${post}: content vector = served vector`);
  }
  let differs = 0;
  for (let j = 0; j < 33; j++) differs += Math.abs(click.contentPosts![33 + j] - click.posts[33 + j]);
  assert.ok(differs > 1e-4, 'a warm post has an id part beyond its content');
  const media = click.media.video!;
  assert.ok(media.memer, media.memerSkipped ?? '');
  assert.equal(media.memer.metrics.prior?.kind, 'linear');
  const runtime = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    const e = await MemerEmbedder.load(runtime, media.memer.info.version, media.memer.onnx);
    const v = await e.embed({ features: postFeatureVectors(ds, ds.items.mediaType.indexOf(0), media.memer.modalities), freq: 0, tags: postTagNames(ds, ds.items.mediaType.indexOf(0)) });
    assert.equal(v.length, 33);
    assert.ok(v.every(Number.isFinite));
  } finally {
    await runtime.dispose();
  }
});
