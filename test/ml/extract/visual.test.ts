/**
 * The default visual extractor: 1280-d pooled MobileNetV2 features per 224x224 image, batched runs equal to single
 * ones (1e-5: onnxruntime may pick other kernels per batch size), typed errors for bad input, the conversion cache.
 * Agreement with TensorFlow.js on the same model and preprocessing is tfjs-convert.test.ts's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxMetadata } from '../../../src/ml/graph/onnx.js';
import { VISUAL_MODEL, VisualExtractor, VisualExtractorError, visualModelOnnx } from '../../../src/ml/extract/visual.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { fixtures } from './visual-fixtures.js';
import { cosine, maxAbsDiff } from './tfjs-reference.js';

test('VisualExtractor: 1280-d features, batched runs equal single ones, in the ReLU6 range, distinct per image', async () => {
  const images = (await fixtures()).map((f) => f.image);
  const ex = await VisualExtractor.open({ provider: 'cpu', threads: 1 });
  try {
    assert.equal(ex.dim, 1280);
    assert.equal(ex.inputSize, 224);
    assert.equal(ex.provider, 'cpu');
    const batched = await ex.embed(images);
    assert.equal(batched.length, images.length);
    for (const [i, img] of images.entries()) {
      const [single] = await ex.embed([img]);
      assert.equal(single.length, 1280);
      assert.ok(maxAbsDiff(single, batched[i]) <= 1e-5, `image ${i}: batched and single runs differ`);
      assert.ok(single.every((v) => v >= 0 && v <= 6), 'pooled ReLU6 features lie in [0, 6]');
    }
    assert.ok(cosine(batched[0], batched[1]) < 0.98);
    // Runs split by maxBatch give the same vectors.
    const small = await VisualExtractor.open({ provider: 'cpu', threads: 1, maxBatch: 2 });
    const split = await small.embed([...images, images[0]]);
    await small.close();
    assert.equal(split.length, images.length + 1);
    split.slice(0, images.length).forEach((v, i) => assert.ok(maxAbsDiff(v, batched[i]) <= 1e-5));
    assert.deepEqual(await ex.embed([]), []);
  } finally {
    await ex.close();
  }
});

test('VisualExtractor: a wrong-sized image, a short buffer, or a closed extractor is a typed error', async () => {
  const ex = await VisualExtractor.open({ provider: 'cpu', threads: 1 });
  const ok = { width: 224, height: 224, data: new Float32Array(224 * 224 * 3) };
  const isError = (code: string, index?: number) => (e: unknown) => e instanceof VisualExtractorError && e.code === code && e.index === index;
  await assert.rejects(ex.embed([ok, { width: 100, height: 100, data: new Float32Array(100 * 100 * 3) }]), isError('BAD_IMAGE', 1));
  await assert.rejects(ex.embed([{ width: 224, height: 224, data: new Float32Array(10) }]), isError('BAD_IMAGE', 0));
  await ex.close();
  await assert.rejects(ex.embed([ok]), isError('CLOSED'));
});

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('VisualExtractor: the converted model is cached in cacheDir, and a corrupt cache file is replaced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'memer-visual-'));
  try {
    const bytes = await visualModelOnnx(dir);
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0], /^nsfwjs-mobilenet_v2-.*\.onnx$/);
    const file = join(dir, files[0]);
    assert.ok(same(readFileSync(file), bytes));
    assert.equal(readOnnxMetadata(bytes)['memer.extractor'], VISUAL_MODEL.id);
    writeFileSync(file, bytes.subarray(0, 1000));
    const again = await visualModelOnnx(dir);
    assert.ok(same(again, bytes));
    assert.ok(same(readFileSync(file), bytes));
    // An extractor opened on a shared runtime leaves it open when closed.
    const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: 1 });
    const ex = await VisualExtractor.open({ runtime, cacheDir: dir });
    const [v] = await ex.embed([{ width: 224, height: 224, data: new Float32Array(224 * 224 * 3).fill(0.5) }]);
    await ex.close();
    assert.equal(v.length, 1280);
    assert.ok(runtime.get(`extractor:${VISUAL_MODEL.id}`));
    await runtime.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
