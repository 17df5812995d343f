/**
 * trainPipeline on a tiny simulated platform: shapes of what it returns, the per-media-type feature layout, thresholds
 * with their curves, exported MEMER models that load and embed, option checks, and the dataset views it relies on.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../../src/datasets/read.js';
import { simulate } from '../../../src/datasets/simulator/index.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { MemerEmbedder } from '../../../src/ml/memer/inference.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { estimateThreshold, featureLayout, normalisedFreq, pipelineOptions, pipelineSummary, postFeatureVectors, postTagNames, trainPipeline, viewCounts, withInteractions } from '../../../src/ml/pipeline/index.js';

let dir = '';
let ds: Dataset;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memer-pipeline-'));
  await simulate(dir, { seed: 3, users: 150, posts: 500, interactions: 40_000, dims: { videoVisual: 8, imageVisual: 10, audio: 4, text: 4 }, rates: { click: 0.3, likeGivenClick: 0.5 }, writeLatent: false });
  ds = await readDataset(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('feature layout per media type: used widths from the data, no audio for images', () => {
  assert.deepEqual(featureLayout(ds, 'video').map((s) => [s.modality, s.dim]), [['visual', 8], ['audio', 4], ['text', 4], ['aux', 3]]);
  assert.deepEqual(featureLayout(ds, 'image').map((s) => [s.modality, s.dim]), [['visual', 10], ['text', 4], ['aux', 3]]);
  assert.deepEqual(featureLayout(ds, 'image', ['visual']).map((s) => s.modality), ['visual']);
  const image = ds.items.mediaType.indexOf(1);
  const f = postFeatureVectors(ds, image, featureLayout(ds, 'video'));
  assert.equal(f.audio, undefined, 'an image has no audio row');
  assert.equal(f.visual?.length, 8);
});

test('options are frozen, deep-merged and checked', () => {
  const o = pipelineOptions({ memer: { loss: { gamma: 2 } } });
  assert.ok(Object.isFrozen(o));
  assert.equal(o.memer.loss?.gamma, 2);
  assert.equal(o.memer.training?.adam?.lr, 0.003, 'training defaults survive a loss override');
  assert.throws(() => pipelineOptions({ threads: 0 }), /threads/);
  assert.throws(() => pipelineOptions({ ffmValidationFraction: 1 }), /ffmValidationFraction/);
  assert.equal(normalisedFreq(0, 100), 0);
  assert.equal(normalisedFreq(100, 100), 1);
  assert.equal(normalisedFreq(1000, 100), 1);
});

test('withInteractions keeps items and users and gathers the rows', () => {
  const idx = Int32Array.of(5, 1, 7);
  const v = withInteractions(ds, idx);
  assert.equal(v.interactions.length, 3);
  assert.equal(v.items, ds.items);
  assert.deepEqual([...v.interactions.item], [...idx].map((i) => ds.interactions.item[i]));
  assert.deepEqual([...v.interactions.time], [...idx].map((i) => ds.interactions.time[i]));
});

test('trainPipeline (defaults: the hybrid backbone, d = k + 1): embeddings, thresholds with curves, exported MEMER per media type', async () => {
  const events = new Set<string>();
  const r = await trainPipeline(ds, { signals: ['click', 'like'], minMaturePosts: 40 }, (e) => events.add(e.stage));
  assert.deepEqual([...events].sort(), ['done', 'ffm', 'maturity', 'memer']);
  assert.equal(r.signals.length, 2);
  const click = r.signals[0];
  assert.equal(click.backbone, 'hybrid');
  assert.equal(click.d, 33);
  assert.equal(click.posts.length, ds.items.ids.length * 33);
  assert.equal(click.users.length, ds.userIds.length * 33);
  assert.ok(click.hybrid && typeof click.hybrid.validationGauc === 'number', 'the hybrid backbone reports its validation');
  assert.deepEqual([...click.views], [...viewCounts(ds, ds.signals.indexOf('click'))]);
  assert.ok(click.ffm[0].aucDot! > 0.55, `FFM dot-product AUC ${click.ffm[0].aucDot}`);
  const runtime = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    for (const media of ['video', 'image'] as const) {
      const m = click.media[media]!;
      assert.ok(m.threshold.threshold >= 1 && m.threshold.views.length > 0 && m.threshold.views.length === m.threshold.distance.length);
      assert.ok(m.threshold.maturePosts >= 40, `at least minMaturePosts mature posts (${m.threshold.maturePosts})`);
      let mature = 0;
      m.mature.forEach((x, i) => {
        mature += x;
        if (x) assert.ok(click.views[i] >= m.threshold.threshold && ds.items.mediaType[i] === (media === 'video' ? 0 : 1));
      });
      assert.equal(mature, m.threshold.maturePosts);
      assert.ok(m.memer, `${media}: ${m.memerSkipped}`);
      assert.equal(m.memer.info.signal, 'click');
      assert.equal(m.memer.info.mediaType, media);
      assert.deepEqual(m.memer.info.modalities, r.layout[media]);
      const e = await MemerEmbedder.load(runtime, m.memer.info.version, m.memer.onnx);
      const item = ds.items.mediaType.indexOf(media === 'video' ? 0 : 1);
      const v = await e.embed({ features: postFeatureVectors(ds, item, m.memer.modalities), freq: 0, tags: postTagNames(ds, item) });
      assert.equal(v.length, 33);
      assert.ok(v.every(Number.isFinite));
      assert.equal(m.memer.metrics.prior?.kind, 'linear');
      assert.ok(m.memer.metrics.validationGauc! >= m.memer.metrics.priorValidationGauc!, 'selection on GAUC never keeps a model below its prior');
    }
  } finally {
    await runtime.dispose();
  }
  const json = JSON.parse(JSON.stringify(pipelineSummary(r)));
  assert.equal(json.signals[1].signal, 'like');
  assert.ok(json.timings.total > 0);
});

test('too few mature posts: no MEMER model, with the reason', async () => {
  const r = await trainPipeline(ds, { signals: ['like'], minMemerPosts: 100_000 });
  for (const m of Object.values(r.signals[0].media)) {
    assert.equal(m!.memer, null);
    assert.match(m!.memerSkipped!, /minMemerPosts/);
  }
});

test('threshold floor: M read from the curve is raised to minThreshold (source floor); the doubling curve has no interval', () => {
  const o = pipelineOptions({ minMaturePosts: 1 });
  const free = estimateThreshold(ds, 'like', 'video', o)!;
  assert.equal(free.source, 'curve');
  const floor = free.threshold + 3;
  const floored = estimateThreshold(ds, 'like', 'video', pipelineOptions({ minMaturePosts: 1, minThreshold: floor }))!;
  assert.equal(floored.threshold, floor);
  assert.equal(floored.source, 'floor');
  assert.equal(floored.curveThreshold, free.curveThreshold, 'the curve itself is unchanged');
  const views = viewCounts(ds, ds.signals.indexOf('like'));
  let mature = 0;
  for (let i = 0; i < views.length; i++) if (ds.items.mediaType[i] === 0 && views[i] >= floor) mature++;
  assert.equal(floored.maturePosts, mature);
  const doubling = estimateThreshold(ds, 'like', 'video', pipelineOptions({ minMaturePosts: 1, maturity: { compare: 'doubling' } }))!;
  assert.equal(doubling.snapshotEvery, 0);
  assert.ok(doubling.views.every((n, i) => i === 0 || n > doubling.views[i - 1]) && doubling.views[0] === 2);
  assert.throws(() => pipelineOptions({ minThreshold: 0 }), /minThreshold/);
});
