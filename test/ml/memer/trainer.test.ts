/**
 * Trainer and search: determinism for a seed, learning on planted synthetic data, early stopping that returns the best
 * epoch's weights (re-scored independently through the exported model), random search over alpha/beta/gamma and sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memerConfig } from '../../../src/ml/memer/config.js';
import { splitByItem } from '../../../src/ml/memer/data.js';
import { exportInferenceModel } from '../../../src/ml/memer/export.js';
import { MemerEmbedder, type PostFeatures } from '../../../src/ml/memer/inference.js';
import { auc } from '../../../src/ml/metrics.js';
import { randomSearch } from '../../../src/ml/memer/search.js';
import { syntheticData, DEFAULT_SYNTHETIC } from '../../../src/ml/memer/synthetic.js';
import { trainMemer } from '../../../src/ml/memer/trainer.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { tinyConfig, tinyData } from './fixtures.js';

test('training is deterministic for a seed and differs across seeds', async () => {
  const data = tinyData();
  const run = (seed: number) => {
    const c = tinyConfig({ seed });
    return trainMemer(data, { ...c, training: { ...c.training, maxEpochs: 2, patience: 5 } });
  };
  const [a, b, c] = [await run(4), await run(4), await run(5)];
  for (const [name, w] of a.weights) assert.deepEqual(b.weights.get(name), w, `${name} differs between identical runs`);
  assert.deepEqual(a.history.map((h) => h.train), b.history.map((h) => h.train));
  assert.ok([...a.weights].some(([name, w]) => c.weights.get(name)!.some((x, i) => x !== w[i])), 'another seed should give other weights');
});

test('auc metric: ranks with ties', () => {
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(auc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
  assert.ok(Number.isNaN(auc([1, 2], [1, 1])));
});

test('learns planted structure; early stopping returns the best epoch weights (re-scored via export)', async () => {
  const data = syntheticData({ items: 600, users: 60, samples: 12000, seed: 21 });
  const config = memerConfig({
    architecture: { modalities: DEFAULT_SYNTHETIC.modalities, embeddingDim: 8, semanticDim: 16, encoderHidden: 16, latentDim: 8, decoderHidden: 16 },
    training: { batchSize: 256, maxEpochs: 40, patience: 2, threads: 1, seed: 2, adam: { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } },
  });
  const r = await trainMemer(data, config);
  assert.ok(r.best && r.best.auc > 0.8, `validation AUC ${r.best?.auc}`);
  assert.ok(r.history.length < config.training.maxEpochs, 'early stopping should end training');
  assert.equal(r.history.length, r.bestEpoch + config.training.patience, 'stopped `patience` epochs after the best');
  const last = r.history[r.history.length - 1].validation!;
  assert.ok(last.auc < r.best.auc);
  // Re-score the validation samples through the exported model (eps = 0 there too): AUC must be the best epoch's.
  const bytes = exportInferenceModel(r, { signal: 's', mediaType: 'video', version: 'es' });
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  const embedder = await MemerEmbedder.load(rt, 'es', bytes);
  const { validation } = splitByItem(data, config.training.validationFraction, config.training.seed);
  const posts: PostFeatures[] = [];
  for (let i = 0; i < data.items.count; i++) {
    const features: PostFeatures['features'] = {};
    for (const s of DEFAULT_SYNTHETIC.modalities) {
      const p = data.items.presence?.[s.modality];
      if (!p || p[i]) features[s.modality] = (data.items.features[s.modality]!.data as Float32Array).subarray(i * s.dim, (i + 1) * s.dim);
    }
    posts.push({ features, freq: data.items.freq[i] });
  }
  const emb = await embedder.embedMany(posts);
  const d = 8;
  const scores = Float32Array.from(validation, (k) => {
    const i = data.samples.item[k];
    const u = data.samples.user[k];
    let s = 0;
    for (let j = 0; j < d; j++) s += emb[i * d + j] * data.userEmbeddings[u * d + j];
    return s;
  });
  const rescored = auc(scores, Uint8Array.from(validation, (k) => data.samples.label[k]));
  assert.ok(Math.abs(rescored - r.best.auc) < 1e-4, `re-scored AUC ${rescored} vs best ${r.best.auc} (last ${last.auc})`);
  await rt.dispose();
});

test('random search samples alpha/beta/gamma and sizes within the space and keeps the best trial', async () => {
  const data = tinyData();
  const base = tinyConfig();
  const config = { ...base, training: { ...base.training, maxEpochs: 2 } };
  const space = { alpha: [0.1, 1] as const, beta: [0.1, 1] as const, gamma: [1, 5] as const, semanticDim: [4, 8], encoderHidden: [4], decoderHidden: [6, 7], lr: [1e-3, 3e-3] as const, weightDecay: [0, 1e-3] };
  const seen: number[] = [];
  const res = await randomSearch(data, config, space, { trials: 3 }, { onTrial: (t) => seen.push(t.trial) });
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(new Set(res.trials.map((t) => t.loss.alpha)).size, 3);
  for (const t of res.trials) {
    assert.ok(t.loss.alpha >= 0.1 && t.loss.alpha <= 1 && t.loss.gamma >= 1 && t.loss.gamma <= 5);
    assert.ok([4, 8].includes(t.semanticDim) && [6, 7].includes(t.decoderHidden));
    assert.ok(t.lr >= 1e-3 && t.lr <= 3e-3 && [0, 1e-3].includes(t.weightDecay));
  }
  const bestAuc = Math.max(...res.trials.map((t) => t.validation!.auc));
  assert.equal(res.trials[res.bestTrial - 1].validation!.auc, bestAuc);
  assert.equal(res.best.best!.auc, bestAuc);
  assert.equal(res.best.config.architecture.semanticDim, res.trials[res.bestTrial - 1].semanticDim);
  const again = await randomSearch(data, config, space, { trials: 3 });
  assert.deepEqual(again.trials.map((t) => t.loss), res.trials.map((t) => t.loss));
});
