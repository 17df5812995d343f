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

const MODALITIES: ModalitySpec[] = (['visual', 'audio', 'text'] as const).map((modality) => ({ modality, dim: TEST_FEATURES.video[modality]! }));

async function tinyModel(seed: number, signal: string): Promise<Uint8Array> {
  const data = syntheticData({ modalities: MODALITIES, items: 30, users: 10, samples: 120, embeddingDim: 4, seed });
  const config = memerConfig({ architecture: { modalities: MODALITIES, embeddingDim: 4, semanticDim: 6, encoderHidden: 5, latentDim: 3, decoderHidden: 5 }, training: { seed, maxEpochs: 1, batchSize: 16, threads: 1 } });
  return exportInferenceModel(await trainMemer(data, config), { signal, mediaType: 'video', version: `${signal}-${seed}` });
}

for (const provider of PROVIDERS) {
  describe(`merged MEMER sessions on ${provider}`, () => {
    let h: Harness;
    const modelDir = mkdtempSync(join(tmpdir(), 'memer-ensemble-'));
    before(async () => {
      h = await harness(provider, { modelDir });
      const { prisma } = h.services.db;
      for (const [i, signal] of ['click', 'like'].entries()) {
        writeFileSync(join(modelDir, `${signal}.onnx`), await tinyModel(i + 1, signal));
        const { id } = await prisma.signal.findUniqueOrThrow({ where: { name: signal } });
        await prisma.modelVersion.create({ data: { version: `${signal}-v`, kind: 'MEMER', signalId: id, mediaType: 'VIDEO', status: 'READY', metrics: JSON.stringify({ freqScale: 50 }), artefact: `${signal}.onnx`, active: true } });
      }
      await h.services.registry.sync();
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
      const { prisma } = h.services.db;
      const post = await prisma.post.findUniqueOrThrow({ where: { externalId: 'e1' }, include: { features: true, embeddings: { include: { signal: true } } } });
      // The model input is the stored (float16) features.
      const stored = Object.fromEntries(post.features.map((f) => [f.modality.toLowerCase(), halvesToFloats(bytesToHalves(f.data))]));
      for (const model of snapshot.ensembles[0].models) {
        const alone = await model.embedder.embed({ features: stored, freq: normalisedFreq(0, model.freqScale) });
        const row = post.embeddings.find((e) => e.signal.name === model.signal && e.source === 'MEMER')!;
        const got = bytesToVector(row.vector);
        assert.equal(got.length, alone.length);
        got.forEach((x, j) => assert.ok(Math.abs(x - alone[j]) <= 1e-6, `${model.signal}[${j}]: ${x} vs ${alone[j]}`));
      }
    });
  });
}
