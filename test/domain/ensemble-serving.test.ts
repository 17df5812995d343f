import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { halvesToFloats } from '../../src/datasets/float16.js';
import { memerConfig, type ModalitySpec } from '../../src/ml/memer/config.js';
import { exportInferenceModel } from '../../src/ml/memer/export.js';
import { syntheticData } from '../../src/ml/memer/synthetic.js';
import { trainMemer } from '../../src/ml/memer/trainer.js';
import { normalisedFreq } from '../../src/ml/pipeline/memer-model.js';
import { bytesToHalves, bytesToVector } from '../../src/lib/vectors.js';
import { PROVIDERS } from '../helpers/databases.js';
import { features, harness, TEST_FEATURES, type Harness } from '../helpers/harness.js';

const VIDEO: ModalitySpec[] = (['visual', 'audio', 'text'] as const).map((modality) => ({ modality, dim: TEST_FEATURES.video[modality]! }));
const IMAGE: ModalitySpec[] = (['visual', 'text'] as const).map((modality) => ({ modality, dim: TEST_FEATURES.image[modality]! }));

async function tinyModel(seed: number, signal: string, modalities = VIDEO): Promise<Uint8Array> {
  const data = syntheticData({ modalities, items: 30, users: 10, samples: 120, embeddingDim: 4, seed });
  const config = memerConfig({ architecture: { modalities, embeddingDim: 4, semanticDim: 6, encoderHidden: 5, latentDim: 3, decoderHidden: 5 }, training: { seed, maxEpochs: 1, batchSize: 16, threads: 1 } });
  return exportInferenceModel(await trainMemer(data, config), { signal, mediaType: modalities === VIDEO ? 'video' : 'image', version: `${signal}-${seed}` });
}

/** Each MEMER vector stored for the post equals what its model gives on its own for the stored (float16) features. */
async function assertStoredAsAlone(h: Harness, externalId: string): Promise<void> {
  const { prisma } = h.services.db;
  const post = await prisma.post.findUniqueOrThrow({ where: { externalId }, include: { features: true, embeddings: { include: { signal: true } } } });
  const stored = Object.fromEntries(post.features.map((f) => [f.modality.toLowerCase(), halvesToFloats(bytesToHalves(f.data))]));
  for (const model of h.services.registry.current().ensembles[0].models) {
    const alone = await model.embedder.embed({ features: stored, freq: normalisedFreq(0, model.freqScale) });
    const row = post.embeddings.find((e) => e.signal.name === model.signal && e.source === 'MEMER')!;
    const got = bytesToVector(row.vector);
    assert.equal(got.length, alone.length);
    got.forEach((x, j) => assert.ok(Math.abs(x - alone[j]) <= 1e-6, `${externalId} ${model.signal}[${j}]: ${x} vs ${alone[j]}`));
  }
}

async function activateVideoModels(h: Harness, modelDir: string): Promise<void> {
  const { prisma } = h.services.db;
  for (const [i, signal] of ['click', 'like'].entries()) {
    writeFileSync(join(modelDir, `${signal}.onnx`), await tinyModel(i + 1, signal));
    const { id } = await prisma.signal.findUniqueOrThrow({ where: { name: signal } });
    await prisma.modelVersion.create({ data: { version: `${signal}-v`, kind: 'MEMER', signalId: id, mediaType: 'VIDEO', status: 'READY', metrics: JSON.stringify({ freqScale: 50 }), artefact: `${signal}.onnx`, active: true } });
  }
  await h.services.registry.sync();
}

for (const provider of PROVIDERS) {
  describe(`merged MEMER sessions on ${provider}`, () => {
    let h: Harness;
    const modelDir = mkdtempSync(join(tmpdir(), 'memer-ensemble-'));
    before(async () => {
      h = await harness(provider, { modelDir });
      await activateVideoModels(h, modelDir);
    });
    after(async () => {
      await h.close();
      rmSync(modelDir, { recursive: true, force: true });
    });

    test('the video models of two signals run as one session, and uploads store what each model gives on its own', async () => {
      const snapshot = h.services.registry.current();
      assert.equal(snapshot.ensembles.length, 1);
      assert.deepEqual(snapshot.ensembles[0].models.map((m) => m.signal).sort(), ['click', 'like']);
      const input = { id: 'e1', mediaType: 'VIDEO', features: { visual: features(8), audio: features(4, 2), text: features(3, 3) } };
      const REGISTER = `mutation($input: RegisterPostInput!) { registerPost(input: $input) { servingSources { signal source } } }`;
      const sources = (await h.ok(REGISTER, { input })).registerPost.servingSources;
      assert.deepEqual(sources.filter((s: { signal: string }) => ['click', 'like'].includes(s.signal)).map((s: { source: string }) => s.source), ['MEMER', 'MEMER']);
      await assertStoredAsAlone(h, 'e1');
    });

    test('an activation elsewhere keeps the merged session of an unchanged group loaded past the grace period', async (t) => {
      const before = h.services.registry.current().ensembles[0];
      const key = `ensemble:${before.models.map((m) => m.versionKey).join('+')}`;
      writeFileSync(join(modelDir, 'click-image.onnx'), await tinyModel(3, 'click', IMAGE));
      const { prisma } = h.services.db;
      const { id } = await prisma.signal.findUniqueOrThrow({ where: { name: 'click' } });
      await prisma.modelVersion.create({ data: { version: 'click-image-v', kind: 'MEMER', signalId: id, mediaType: 'IMAGE', status: 'READY', metrics: '{}', artefact: 'click-image.onnx', active: true } });
      t.mock.timers.enable({ apis: ['setTimeout'] });
      await h.services.registry.sync();
      t.mock.timers.tick(60_000);
      t.mock.timers.reset();
      assert.equal(h.services.registry.current().ensembles.length, 1);
      assert.equal(h.services.modelRuntime.state(key)?.status, 'ready');
      const input = { id: 'e2', mediaType: 'VIDEO', features: { visual: features(8, 4), audio: features(4, 5), text: features(3, 6) } };
      await h.ok(`mutation($input: RegisterPostInput!) { registerPost(input: $input) { id } }`, { input });
    });
  });
}

test('with the session thread on (MEMER_MODEL_THREAD), a batch of uploads runs there and stores the same vectors', async () => {
  const modelDir = mkdtempSync(join(tmpdir(), 'memer-ensemble-thread-'));
  const h = await harness('sqlite', { modelDir, modelThread: true });
  try {
    await activateVideoModels(h, modelDir);
    const inputs = [0, 1, 2, 3].map((i) => ({ id: `t${i}`, mediaType: 'VIDEO', features: { visual: features(8, 10 + i), audio: features(4, 20 + i), text: features(3, 30 + i) } }));
    const registered = (await h.ok(`mutation($inputs: [RegisterPostInput!]!) { registerPosts(inputs: $inputs) { id } }`, { inputs })).registerPosts;
    assert.equal(registered.length, 4);
    assert.ok(h.services.modelRuntime.threadRuns >= 1, 'the batch ran on the session thread');
    for (const { id } of inputs) await assertStoredAsAlone(h, id);
  } finally {
    await h.close();
    rmSync(modelDir, { recursive: true, force: true });
  }
});
