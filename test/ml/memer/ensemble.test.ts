import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import onnxProto from 'onnx-proto';
import { exportInferenceModel } from '../../../src/ml/memer/export.js';
import { MemerEnsemble } from '../../../src/ml/memer/ensemble.js';
import { MemerEmbedder, type PostFeatures } from '../../../src/ml/memer/inference.js';
import { trainMemer } from '../../../src/ml/memer/trainer.js';
import { mergeModels } from '../../../src/ml/onnx/merge.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { tinyConfig, tinyData } from './fixtures.js';

const { onnx } = onnxProto;
const runtime = new OnnxRuntime({ intraOpThreads: 1 });
after(() => runtime.dispose());

async function model(seed: number, signal: string): Promise<Uint8Array> {
  const c = tinyConfig({ seed });
  const trained = await trainMemer(tinyData(), { ...c, training: { ...c.training, maxEpochs: 1, patience: 5 } });
  return exportInferenceModel(trained, { signal, mediaType: 'video', version: `${signal}-${seed}` });
}

const post = (k: number, withAudio: boolean): PostFeatures => ({
  features: {
    visual: Float32Array.from({ length: 5 }, (_, i) => Math.sin(k + i)),
    ...(withAudio ? { audio: Float32Array.from({ length: 3 }, (_, i) => Math.cos(k * i)) } : {}),
    text: Float32Array.from({ length: 2 }, (_, i) => k - i),
  },
  freq: 0,
});

test('an ensemble run gives each model exactly what its own session gives, with its own freq', async () => {
  const bytes = [await model(1, 'click'), await model(2, 'like'), await model(3, 'share')];
  const members = await Promise.all(bytes.map((b, i) => MemerEmbedder.load(runtime, `own-${i}`, b)));
  const ensemble = await MemerEnsemble.load(runtime, 'ensemble-test', members, async () => bytes);
  const posts = [post(1, true), post(2, false), post(3, true), post(4, true)];
  const freqs = members.map((_, i) => Float32Array.from(posts, (_, k) => (i + k) / 10));
  const together = await ensemble.embedAll(posts, freqs);
  for (const [i, m] of members.entries()) {
    const alone = await m.embedMany(posts.map((p, k) => ({ ...p, freq: freqs[i][k] })));
    assert.equal(together[i].length, alone.length);
    together[i].forEach((x, j) => assert.ok(Math.abs(x - alone[j]) <= 1e-6 * Math.max(1, Math.abs(alone[j])), `member ${i} value ${j}: ${x} vs ${alone[j]}`));
  }
  // The models differ (other seeds), so a mix-up of members would show.
  assert.ok(together[0].some((x, j) => Math.abs(x - together[1][j]) > 1e-4));
  // One session input per modality and presence, one freq per member.
  assert.deepEqual(ensemble.session.inputNames.sort(), ['audio', 'm0/freq', 'm1/freq', 'm2/freq', 'presence', 'text', 'visual']);
});

test('merging refuses what it cannot share', async () => {
  const a = await model(1, 'click');
  assert.throws(() => mergeModels([{ bytes: a, prefix: 'x/' }, { bytes: a, prefix: 'x/' }], new Set(['visual'])), /prefixes must differ/);
  assert.throws(() => mergeModels([{ bytes: a, prefix: 'a/' }], new Set(['nope'])), /no model has the shared input\(s\) nope/);
  // The same model with its visual input declared 6 wide: the shared input no longer matches.
  const proto = onnx.ModelProto.decode(a);
  const visual = proto.graph!.input!.find((i) => i.name === 'visual')!;
  visual.type!.tensorType!.shape!.dim![1] = { dimValue: 6 };
  const wide = onnx.ModelProto.encode(proto).finish();
  assert.throws(() => mergeModels([{ bytes: a, prefix: 'a/' }, { bytes: wide, prefix: 'b/' }], new Set(['visual'])), /shared input "visual" differs between the models/);
  assert.doesNotThrow(() => mergeModels([{ bytes: a, prefix: 'a/' }, { bytes: wide, prefix: 'b/' }], new Set(['audio'])));
});
