/**
 * Offset calibration (src/ml/pipeline/calibration.ts): the constant user dimensions, the shift arithmetic, and on a
 * tiny simulated platform that a calibrated model differs from the same model uncalibrated by exactly its recorded
 * shift in the post-bias dimension (so no per-user order changes) and matches the backbone's mean there.
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
import { constantUserDims, embedPosts, offsetShifts } from '../../../src/ml/pipeline/calibration.js';
import { trainPipeline } from '../../../src/ml/pipeline/index.js';

let dir = '';
let ds: Dataset;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memer-calibration-'));
  await simulate(dir, { seed: 5, users: 150, posts: 500, interactions: 40_000, dims: { videoVisual: 8, imageVisual: 10, audio: 4, text: 4 }, rates: { click: 0.3 }, writeLatent: false });
  ds = await readDataset(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('constantUserDims: only dimensions every user holds at one non-zero value', () => {
  const users = Float32Array.of(0.3, 1, 0, 2, -0.5, 1, 0, 2, 0.9, 1, 0, 3);
  assert.deepEqual(constantUserDims(users, 4), [1]);
  assert.deepEqual(constantUserDims(Float32Array.of(1, 2), 2), [0, 1], 'one user: every non-zero dimension');
});

test('offsetShifts: reference mean minus model mean, over the reference posts only', () => {
  // items 4 and 2 (rows 0 and 1 of embedded), d = 2, calibrating dimension 1
  const embedded = Float32Array.of(0, -3, 0, -1);
  const reference = new Float32Array(10);
  reference[2 * 2 + 1] = 0.5;
  reference[4 * 2 + 1] = 1.5;
  assert.deepEqual(offsetShifts(embedded, [4, 2], reference, null, [1], 2), { shift: [1 - -2], reference: [1] });
  const only4 = new Uint8Array(5);
  only4[4] = 1;
  assert.deepEqual(offsetShifts(embedded, [4, 2], reference, only4, [1], 2), { shift: [1.5 - -2], reference: [1.5] });
});

test('a calibrated MEMER model is the uncalibrated one shifted in the bias dimension, to the backbone content mean', async () => {
  const options = { signals: ['click'], minMaturePosts: 40, threads: 1, seed: 2 };
  const [on, off] = [await trainPipeline(ds, options), await trainPipeline(ds, { ...options, calibrateOffsets: false })];
  const runtime = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    for (const media of ['video', 'image'] as const) {
      const a = on.signals[0].media[media]!.memer!;
      const b = off.signals[0].media[media]!.memer!;
      const d = on.signals[0].d;
      assert.equal(b.metrics.calibration, null);
      const cal = a.metrics.calibration!;
      assert.deepEqual(cal.dims, [d - 1], 'the hybrid folds the post bias into the last dimension');
      assert.equal(cal.referenceOf, 'backbone-content');
      const items = Int32Array.from({ length: ds.items.ids.length }, (_, i) => i).filter((i) => on.signals[0].media[media]!.seen[i] === 1);
      assert.equal(cal.posts, items.length);
      const embed = async (m: typeof a) => embedPosts(ds, await MemerEmbedder.load(runtime, m.info.version + (m === a ? '-on' : '-off'), m.onnx), m.modalities, items, () => 0);
      const [ea, eb] = [await embed(a), await embed(b)];
      let mean = 0;
      let ref = 0;
      for (let k = 0; k < items.length; k++) {
        for (let j = 0; j < d; j++) {
          const want = j === d - 1 ? eb[k * d + j] + cal.shift[0] : eb[k * d + j];
          assert.ok(Math.abs(ea[k * d + j] - want) < 1e-4, `${media} post ${items[k]} dim ${j}: ${ea[k * d + j]} vs ${want}`);
        }
        mean += ea[k * d + d - 1] / items.length;
        ref += on.signals[0].contentPosts![items[k] * d + d - 1] / items.length;
      }
      assert.ok(Math.abs(mean - ref) < 1e-4, `${media}: calibrated mean bias ${mean} vs the backbone's content mean ${ref}`);
      assert.ok(Math.abs(cal.reference[0] - ref) < 1e-5);
    }
  } finally {
    await runtime.dispose();
  }
});
