/**
 * The linear prior's tag rows (memer-model.ts residualTagRows): on a simulated platform, whose tags shift each post's
 * factors, a prior-only MEMER (no training epoch) with the tag rows lands closer to the backbone's own vector for posts
 * the backbone never saw (20% held out with all their interactions) than the content-only prior; the exported model
 * reads the tags, and the tags change a post's embedding.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../../src/datasets/read.js';
import { simulate } from '../../../src/datasets/simulator/index.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { itemColdSplit } from '../../../src/ml/evaluation/item-cold-protocol.js';
import { MemerEmbedder } from '../../../src/ml/memer/inference.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { embedPosts } from '../../../src/ml/pipeline/calibration.js';
import { interactionsOfItems, postFeatureVectors, trainPipeline, withInteractions } from '../../../src/ml/pipeline/index.js';

let dir = '';
let ds: Dataset;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memer-prior-tags-'));
  await simulate(dir, { seed: 4, users: 300, posts: 1200, interactions: 60_000, tags: 30, dims: { videoVisual: 8, imageVisual: 8, audio: 4, text: 4 }, rates: { click: 0.3 }, writeLatent: false });
  ds = await readDataset(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('tag rows bring the prior closer to the backbone on held-out posts, and the model reads the tags', async () => {
  const cold = itemColdSplit(ds, 0.2, 1);
  const view = withInteractions(ds, interactionsOfItems(ds, Uint8Array.from(cold, (c) => 1 - c)));
  const options = { signals: ['click'], trainItems: Uint8Array.from(cold, (c) => 1 - c), minMaturePosts: 40, threads: 1, memer: { training: { maxEpochs: 0 } } };
  const [withTags, without] = [await trainPipeline(view, options), await trainPipeline(view, { ...options, priorTags: false })];
  const runtime = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    for (const media of ['video', 'image'] as const) {
      const mt = media === 'video' ? 0 : 1;
      const held = Int32Array.from({ length: ds.items.ids.length }, (_, i) => i).filter((i) => cold[i] === 1 && ds.items.mediaType[i] === mt);
      const sig = withTags.signals[0];
      const d = sig.d;
      const error = async (r: typeof withTags, key: string) => {
        const m = r.signals[0].media[media]!.memer!;
        const e = await MemerEmbedder.load(runtime, `${m.info.version}-${key}`, m.onnx);
        const emb = await embedPosts(ds, e, m.modalities, held, () => 0);
        let se = 0;
        held.forEach((p, k) => {
          for (let j = 0; j < d; j++) se += (emb[k * d + j] - sig.contentPosts![p * d + j]) ** 2;
        });
        return { mse: se / held.length, embedder: e, model: m };
      };
      const a = await error(withTags, 'tags');
      const b = await error(without, 'plain');
      assert.ok(a.embedder.readsTags && !b.embedder.readsTags, 'only the prior with tag rows has a tags input');
      assert.ok(a.model.info.prior!.tags.length > 0);
      assert.ok(a.mse < 0.9 * b.mse, `${media}: held-out squared error ${a.mse} with tag rows vs ${b.mse} without`);
      const p = held.find((i) => ds.items.tagOffsets[i + 1] > ds.items.tagOffsets[i])!;
      const features = postFeatureVectors(ds, p, a.model.modalities);
      const tagged = await a.embedder.embed({ features, freq: 0, tags: ds.items.tagNames.filter((_, t) => ds.items.tagIds.subarray(ds.items.tagOffsets[p], ds.items.tagOffsets[p + 1]).includes(t)) });
      const untagged = await a.embedder.embed({ features, freq: 0, tags: [] });
      assert.ok(tagged.some((x, j) => Math.abs(x - untagged[j]) > 1e-4), "a post's tags move its embedding");
    }
  } finally {
    await runtime.dispose();
  }
});
