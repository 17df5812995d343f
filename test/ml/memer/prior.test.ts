/**
 * Residual MEMER on a prior (architecture.prior, src/ml/memer/prior.ts) and the regularisers of issue 16 point 3:
 *
 *   - the tag-average prior equals TAG_AVG's formula, fitted on the training posts only;
 *   - content that is pure noise: the residual model's embeddings of unseen posts stay at the prior. Measured as
 *     sum ||p - prior||^2 / sum ||prior||^2, split into a post-independent offset (invisible to GAUC) and the
 *     post-dependent rest: < 0.1 in all with model selection (GAUC), and without any selection (10 epochs, weight
 *     decay 0.1) the post-dependent part < 0.03 (offset < 0.2), every post's cosine to its prior (offset removed) > 0.85;
 *     the paper's model (no prior) deviates > 10x more;
 *   - content that carries signal: the residual model beats its prior (MSE to the true embedding of unseen posts at
 *     most 0.7 x the prior's) and its validation AUC beats epoch 0 (the prior);
 *   - the exported ONNX (tags input, table inside) reproduces the training graph's output to 1e-5, through the
 *     embedder (batch and single posts, unknown tags, no tags) and through an ensemble; a global-average prior keeps
 *     the no-prior model's inputs;
 *   - weight decay shrinks the weights; input dropout, modality dropout and the freq modes act on training batches only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memerConfig, type MemerConfig } from '../../../src/ml/memer/config.js';
import { BatchAssembler, splitByItem, type MemerTrainingData } from '../../../src/ml/memer/data.js';
import { MemerEnsemble } from '../../../src/ml/memer/ensemble.js';
import { exportInferenceModel, readMemerInfo } from '../../../src/ml/memer/export.js';
import { modalityStats } from '../../../src/ml/memer/features.js';
import { MemerEmbedder, type PostFeatures } from '../../../src/ml/memer/inference.js';
import { INPUT, OUTPUT } from '../../../src/ml/memer/model.js';
import { fitPrior, priorVector, type ItemTags } from '../../../src/ml/memer/prior.js';
import { syntheticData, DEFAULT_SYNTHETIC, type SyntheticOptions } from '../../../src/ml/memer/synthetic.js';
import { groupedAuc, trainMemer, type TrainingResult } from '../../../src/ml/memer/trainer.js';
import { evaluate } from '../../../src/ml/graph/reference.js';
import { Rng } from '../../../src/ml/graph/rng.js';
import { DEFAULT_ADAM } from '../../../src/ml/graph/optimizer.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { TINY_MODALITIES } from './fixtures.js';

const MODS = DEFAULT_SYNTHETIC.modalities;

/**
 * A planted world with tags. The labels are drawn with logit sharpness * d * v_i . v_u; the users are scaled by
 * sharpness * d here so that sigmoid(p . v_u) is the label probability at p = v_i, and the BCE and reconstruction
 * terms agree on the scale of the embedding (as memerUsers arranges in the pipeline).
 */
function world(over: Partial<SyntheticOptions>): MemerTrainingData {
  const o = { items: 500, users: 60, samples: 10000, tags: 6, tagStrength: 1, seed: 5, sharpness: 1.5, embeddingDim: 8, ...over };
  const data = syntheticData(o);
  return { ...data, userEmbeddings: data.userEmbeddings.map((x) => x * o.sharpness * o.embeddingDim) };
}

function config(over: { prior?: 'none' | 'global-average' | 'tag-average'; weightDecay?: number; maxEpochs?: number; seed?: number } = {}): MemerConfig {
  return memerConfig({
    architecture: { modalities: MODS, embeddingDim: 8, semanticDim: 16, encoderHidden: 16, latentDim: 8, decoderHidden: 16, prior: over.prior ?? 'tag-average' },
    loss: { alpha: 0.1, beta: 1, gamma: 1 },
    training: { batchSize: 256, maxEpochs: over.maxEpochs ?? 15, patience: 3, threads: 1, seed: over.seed ?? 2, validationFraction: 0.2, adam: { ...DEFAULT_ADAM, lr: 1e-2, weightDecay: over.weightDecay ?? 0 } },
  });
}

function tagNames(tags: ItemTags | undefined, i: number): string[] {
  if (!tags) return [];
  return Array.from(tags.ids.subarray(tags.offsets[i], tags.offsets[i + 1]), (t) => tags.names[t]);
}

function post(data: MemerTrainingData, i: number, freq = 0): PostFeatures {
  const features: PostFeatures['features'] = {};
  for (const s of MODS) {
    const p = data.items.presence?.[s.modality];
    if (!p || p[i]) features[s.modality] = (data.items.features[s.modality]!.data as Float32Array).subarray(i * s.dim, (i + 1) * s.dim);
  }
  return { features, freq, tags: tagNames(data.items.tags, i) };
}

/** Embeddings of `items` through the exported model (the serving path), row-major. */
async function served(trained: TrainingResult, data: MemerTrainingData, items: ArrayLike<number>, rt: OnnxRuntime, key: string): Promise<Float32Array> {
  const embedder = await MemerEmbedder.load(rt, key, exportInferenceModel(trained, { signal: 's', mediaType: 'video', version: key }));
  return embedder.embedMany(Array.from(items, (i) => post(data, i)));
}

function validationItems(data: MemerTrainingData, c: MemerConfig): number[] {
  const { trainItems } = splitByItem(data, c.training.validationFraction, c.training.seed);
  const train = new Set(trainItems);
  return Array.from({ length: data.items.count }, (_, i) => i).filter((i) => !train.has(i));
}

const sq = (a: ArrayLike<number>, b: ArrayLike<number>, ao = 0, bo = 0, d = 8) => {
  let s = 0;
  for (let j = 0; j < d; j++) s += (a[ao + j] - b[bo + j]) ** 2;
  return s;
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>, ao = 0, bo = 0, d = 8) => {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ao + j] * b[bo + j];
  return s;
};

test('tag-average prior: TAG_AVG of the training posts, global average without known tags, vocabulary cap and smoothing', () => {
  const d = 2;
  const emb = Float32Array.of(1, 0, 3, 0, 0, 2, 0, 4, 10, 10);
  // items: 0 {a}, 1 {a, b}, 2 {b}, 3 {}, 4 {c} (item 4 is not a training post)
  const tags: ItemTags = { names: ['a', 'b', 'c'], offsets: Int32Array.of(0, 1, 3, 4, 4, 5), ids: Int32Array.of(0, 0, 1, 1, 2) };
  const p = fitPrior('tag-average', emb, d, [0, 1, 2, 3], tags, { maxTags: 10, smoothing: 0 });
  assert.deepEqual(p.tags, ['a', 'b']);
  assert.deepEqual(p.counts, [2, 2]);
  assert.deepEqual(Array.from(p.table), [2, 0, 1.5, 1, 1, 1.5]);
  assert.deepEqual(Array.from(priorVector(p, ['a', 'b'])), [1.75, 0.5]);
  assert.deepEqual(Array.from(priorVector(p, ['c', 'zzz'])), [1, 1.5], 'no known tag: the global average');
  assert.deepEqual(Array.from(priorVector(p, undefined)), [1, 1.5]);
  const capped = fitPrior('tag-average', emb, d, [0, 1, 2, 3], tags, { maxTags: 1, smoothing: 2 });
  assert.deepEqual(capped.tags, ['a'], 'ties by name');
  assert.deepEqual(Array.from(capped.table.subarray(0, 2)), [(4 + 2) / 4, (0 + 3) / 4]);
  const global = fitPrior('global-average', emb, d, [0, 1, 2, 3], tags, { maxTags: 10, smoothing: 0 });
  assert.deepEqual(global.tags, []);
  assert.deepEqual(Array.from(global.table), [1, 1.5]);
});

/**
 * (p - prior) over posts, split into its mean (a post-independent offset: it shifts every score of a user by the same
 * amount, so GAUC does not see it) and the rest; both relative to the mean ||prior||^2.
 */
function deviation(emb: Float32Array, priors: Float32Array[]): { rel: number; offset: number; varying: number; worstCos: number } {
  const n = priors.length;
  const off = new Float64Array(8);
  priors.forEach((p, k) => { for (let j = 0; j < 8; j++) off[j] += (emb[k * 8 + j] - p[j]) / n; });
  let rel = 0, varying = 0, norm = 0, worstCos = 1;
  priors.forEach((p, k) => {
    const q = Float32Array.from(p, (x, j) => emb[k * 8 + j] - off[j]);
    rel += sq(emb, p, k * 8);
    varying += sq(q, p);
    norm += dot(p, p);
    worstCos = Math.min(worstCos, dot(q, p) / Math.sqrt(dot(q, q) * dot(p, p)));
  });
  return { rel: rel / norm, offset: (n * dot(off, off)) / norm, varying: varying / norm, worstCos };
}

test('pure-noise content: the residual model stays at its prior on unseen posts; the paper model does not', async (t) => {
  const data = world({ contentStrength: 0, embeddingNoise: 0.5 });
  const priorsOf = (r: TrainingResult, items: number[]) => items.map((i) => priorVector(r.prior!, tagNames(data.items.tags, i)));
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    // 1. With model selection on validation GAUC: no epoch beats the prior (epoch 0), which is kept.
    const base = config({ weightDecay: 0.1 });
    const c = { ...base, training: { ...base.training, monitor: 'gauc' as const } };
    const r = await trainMemer(data, c);
    assert.equal(r.history[0].epoch, 0, 'the prior is validated as epoch 0');
    const val = validationItems(data, c);
    const selected = deviation(await served(r, data, val, rt, 'noise'), priorsOf(r, val));

    // 2. Without model selection (no validation split: the last epoch's weights), on 100 posts that have no samples:
    // the zero-initialised residual and weight decay alone keep it at the prior, up to a post-independent offset.
    const unseen = Array.from({ length: 100 }, (_, i) => i);
    const keep = Int32Array.from({ length: data.samples.length }, (_, k) => k).filter((k) => data.samples.item[k] >= 100);
    const sub: MemerTrainingData = { ...data, samples: { length: keep.length, item: keep.map((k) => data.samples.item[k]), user: keep.map((k) => data.samples.user[k]), label: Uint8Array.from(keep, (k) => data.samples.label[k]) } };
    const noSelection = (cfg: MemerConfig) => ({ ...cfg, training: { ...cfg.training, validationFraction: 0, maxEpochs: 10 } });
    const last = await trainMemer(sub, noSelection(base));
    assert.equal(last.bestEpoch, 10);
    const residual = deviation(await served(last, data, unseen, rt, 'noise-last'), priorsOf(last, unseen));
    const paper = await trainMemer(sub, noSelection(config({ prior: 'none', weightDecay: 0.1 })));
    const paperDev = deviation(await served(paper, data, unseen, rt, 'noise-paper'), priorsOf(last, unseen));
    const f = (x: { rel: number; offset: number; varying: number; worstCos: number }) => `rel ${x.rel.toFixed(4)} = offset ${x.offset.toFixed(4)} + varying ${x.varying.toFixed(4)}, worst cosine ${x.worstCos.toFixed(4)}`;
    t.diagnostic(`selected (best epoch ${r.bestEpoch}): ${f(selected)}; residual, last epoch: ${f(residual)}; paper model, last epoch: ${f(paperDev)}`);
    // Tolerances (measured: 0.044 / 0.94; 0.013 / 0.93 / 0.11; the paper model 0.65 varying): about twice the measure.
    assert.ok(selected.rel < 0.1 && selected.worstCos > 0.85, `with selection: ${f(selected)}`);
    assert.ok(residual.varying < 0.03 && residual.worstCos > 0.85, `without selection, post-dependent part: ${f(residual)}`);
    assert.ok(residual.offset < 0.2, `without selection, offset: ${f(residual)}`);
    assert.ok(paperDev.varying > 10 * residual.varying && paperDev.rel > 4 * residual.rel, `the paper model is not pinned to the prior: ${f(paperDev)}`);
  } finally {
    await rt.dispose();
  }
});

test('content with signal: the residual model beats its prior on unseen posts', async (t) => {
  const data = world({ contentStrength: 1, embeddingNoise: 0.1, seed: 8 });
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    const c = config({ weightDecay: 1e-4, maxEpochs: 30 });
    const r = await trainMemer(data, c);
    const val = validationItems(data, c);
    const emb = await served(r, data, val, rt, 'signal');
    let mseModel = 0;
    let msePrior = 0;
    val.forEach((i, k) => {
      const prior = priorVector(r.prior!, tagNames(data.items.tags, i));
      mseModel += sq(emb, data.items.embeddings, k * 8, i * 8);
      msePrior += sq(prior, data.items.embeddings, 0, i * 8);
    });
    t.diagnostic(`MSE to the true embedding of unseen posts: model ${(mseModel / val.length).toFixed(5)}, prior ${(msePrior / val.length).toFixed(5)}; AUC ${r.best!.auc.toFixed(4)} vs prior ${r.history[0].validation!.auc.toFixed(4)}`);
    assert.ok(mseModel < 0.7 * msePrior, `MSE to the true embedding: model ${mseModel / val.length}, prior ${msePrior / val.length}`);
    assert.ok(r.bestEpoch > 0 && r.best!.auc > r.history[0].validation!.auc, `validation AUC ${r.best!.auc} vs the prior's ${r.history[0].validation!.auc}`);
    assert.ok(Number.isFinite(r.best!.gauc) && r.best!.zeroFreq !== undefined, 'GAUC and the freq-0 metrics are reported');
  } finally {
    await rt.dispose();
  }
});

test('exported model with a tag prior reproduces the training graph (1e-5): batch, single, unknown and no tags, ensemble; tags required', async () => {
  const data = world({ contentStrength: 1, seed: 3, items: 200, samples: 3000 });
  const c = config({ maxEpochs: 3 });
  const r = await trainMemer(data, c);
  const bytes = exportInferenceModel(r, { signal: 's', mediaType: 'video', version: 'tp' });
  const info = readMemerInfo(bytes);
  assert.deepEqual(info.inputs, ['visual', 'audio', 'text', 'presence', 'freq', 'tags']);
  assert.equal(info.prior!.kind, 'tag-average');
  assert.deepEqual(info.prior!.tags, r.prior!.tags);
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    const embedder = await MemerEmbedder.load(rt, 'tp', bytes);
    assert.ok(embedder.readsTags);
    const posts = [0, 1, 2, 3].map((i) => post(data, i, 0.25 * i));
    posts[2] = { ...posts[2], tags: ['no-such-tag'] };
    posts[3] = { ...posts[3], tags: [] };
    await assert.rejects(embedder.embedMany([{ ...posts[3], tags: undefined }]), /pass PostFeatures.tags/, 'a post without tags is rejected');
    const batch = await embedder.embedMany(posts);
    const single = await Promise.all(posts.map((p) => embedder.embed(p)));
    // The training graph (reference evaluation, trained weights) on the same inputs.
    const n = posts.length;
    const feeds: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const [k, v] of Object.entries(embedder.feeds(posts))) feeds[k] = { data: v, shape: [n, v.length / n] };
    const T = r.prior!.tags.length;
    assert.deepEqual(Array.from(feeds[INPUT.tags].data.subarray(2 * (T + 1), 3 * (T + 1))), [...new Array(T).fill(0), 1], 'unknown tag: the global column');
    const g = r.model.graph;
    const ref = evaluate(g, feeds, [OUTPUT.embedding], r.weights).get(g.outputs.get(OUTPUT.embedding)!)!.data;
    for (let k = 0; k < ref.length; k++) {
      assert.ok(Math.abs(batch[k] - ref[k]) <= 1e-5 * (1 + Math.abs(ref[k])), `batch ${k}: ${batch[k]} vs ${ref[k]}`);
      assert.ok(Math.abs(single[Math.floor(k / 8)][k % 8] - ref[k]) <= 1e-5 * (1 + Math.abs(ref[k])), `single ${k}`);
    }
    // The prior part: with the residual's output layer at 0 the model is exactly the prior.
    const zeroed = new Map(r.weights);
    zeroed.set('dec1.out.W', new Float32Array(r.weights.get('dec1.out.W')!.length));
    zeroed.set('dec1.out.b', new Float32Array(8));
    const atPrior = evaluate(g, feeds, [OUTPUT.embedding], zeroed).get(g.outputs.get(OUTPUT.embedding)!)!.data;
    posts.forEach((p, k) => {
      const expected = priorVector(r.prior!, p.tags);
      for (let j = 0; j < 8; j++) assert.ok(Math.abs(atPrior[k * 8 + j] - expected[j]) < 1e-6, `prior of post ${k}`);
    });
    // Two tag-prior models (different vocabularies) in one ensemble session.
    const r2 = await trainMemer(data, { ...c, architecture: { ...c.architecture, priorMaxTags: 3 } });
    const bytes2 = exportInferenceModel(r2, { signal: 's2', mediaType: 'video', version: 'tp2' });
    const e2 = await MemerEmbedder.load(rt, 'tp2', bytes2);
    const ensemble = await MemerEnsemble.load(rt, 'tp+tp2', [embedder, e2], async () => [bytes, bytes2]);
    const freqs = [Float32Array.from(posts, (p) => p.freq), Float32Array.from(posts, (p) => p.freq)];
    const [a, b] = await ensemble.embedAll(posts, freqs);
    const b2 = await e2.embedMany(posts);
    for (let k = 0; k < a.length; k++) {
      assert.ok(Math.abs(a[k] - batch[k]) < 1e-6 && Math.abs(b[k] - b2[k]) < 1e-6, `ensemble output ${k}`);
    }
  } finally {
    await rt.dispose();
  }
});

test('a global-average prior keeps the inputs of the model without prior; the exported prior is refitted on every item', async () => {
  const data = world({ seed: 4, items: 120, samples: 1500 });
  const none = await trainMemer(data, config({ prior: 'none', maxEpochs: 1 }));
  const globalPrior = await trainMemer(data, config({ prior: 'global-average', maxEpochs: 1 }));
  const a = readMemerInfo(exportInferenceModel(none, { signal: 's', mediaType: 'video', version: 'a' }));
  const b = readMemerInfo(exportInferenceModel(globalPrior, { signal: 's', mediaType: 'video', version: 'b' }));
  assert.deepEqual(b.inputs, a.inputs);
  assert.equal(a.prior, null);
  assert.equal(b.prior!.kind, 'global-average');
  assert.deepEqual(b.prior!.tags, []);
  // priorRefit (default): the exported prior averages every item, as GLOBAL_AVG / TAG_AVG; off: the training split's.
  assert.equal(globalPrior.prior!.posts, data.items.count);
  const c = config({ prior: 'tag-average', maxEpochs: 1 });
  const kept = await trainMemer(data, { ...c, architecture: { ...c.architecture, priorRefit: false } });
  assert.equal(kept.prior!.posts, data.items.count - Math.round(0.2 * data.items.count));
});

test('residualInit > 0: training starts off the prior, epoch 0 is still the prior itself', async () => {
  const data = world({ seed: 4, items: 120, samples: 1500 });
  const c = config({ maxEpochs: 1 });
  const zero = await trainMemer(data, c);
  const one = await trainMemer(data, { ...c, architecture: { ...c.architecture, residualInit: 1 } });
  assert.deepEqual(one.history[0].validation, zero.history[0].validation);
  assert.ok(one.history[1].validation!.auc !== zero.history[1].validation!.auc, 'another start gives another epoch 1');
});

test('weight decay shrinks the weights', async (t) => {
  const data = world({ seed: 6, items: 200, samples: 4000 });
  const norm = (r: TrainingResult) => [...r.weights.values()].reduce((s, w) => s + w.reduce((a, x) => a + x * x, 0), 0);
  const plain = await trainMemer(data, config({ prior: 'none', maxEpochs: 5, weightDecay: 0 }));
  const decayed = await trainMemer(data, config({ prior: 'none', maxEpochs: 5, weightDecay: 0.5 }));
  // The same epochs either way (patience not reached), so the norms compare like for like.
  assert.equal(plain.history.length, decayed.history.length);
  const [n0, n1] = [norm(plain), norm(decayed)];
  t.diagnostic(`squared weight norm: ${n0.toFixed(1)} without decay, ${n1.toFixed(1)} with 0.5`);
  assert.ok(n1 < 0.7 * n0, `squared weight norm with decay ${n1} vs ${n0}`);
});

test('assembler: input dropout, modality dropout and freq modes act on training batches only', () => {
  const data = syntheticData({ modalities: TINY_MODALITIES, items: 40, users: 5, samples: 200, embeddingDim: 4, missingRate: 0, seed: 9 });
  const rows = Int32Array.from({ length: data.items.count }, (_, i) => i);
  const stats = Object.fromEntries(TINY_MODALITIES.map((s) => [s.modality, modalityStats(data.items.features[s.modality]!, rows)]));
  const order = Int32Array.from({ length: 200 }, (_, i) => i);
  const plain = new BatchAssembler(data, TINY_MODALITIES, 4, 3, 200, false).fill(order, 0, 200);
  const copy = (f: Record<string, { data: Float32Array }>) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Float32Array.from(v.data)]));
  const ref = copy(plain);
  const rate = 0.3;
  const asm = new BatchAssembler(data, TINY_MODALITIES, 4, 3, 200, false, { inputDropout: rate, stats, freq: 'uniform' });
  const val = copy(asm.fill(order, 0, 200));
  assert.deepEqual(val, ref, 'without rng (validation): no dropout, observed freq');
  assert.deepEqual(Array.from(copy(asm.fill(order, 0, 200, undefined, 0)).freq), new Array(200).fill(0), 'validation at freq 0');
  const tr = copy(asm.fill(order, 0, 200, new Rng(1)));
  let dropped = 0;
  let total = 0;
  for (const s of TINY_MODALITIES) {
    const mean = stats[s.modality].mean;
    for (let k = 0; k < 200; k++) {
      for (let j = 0; j < s.dim; j++) {
        const x = ref[s.modality][k * s.dim + j];
        const y = tr[s.modality][k * s.dim + j];
        total++;
        if (Math.abs(y - mean[j]) < 1e-5 * (1 + Math.abs(mean[j]))) dropped++;
        else assert.ok(Math.abs(y - (mean[j] + (x - mean[j]) / (1 - rate))) < 1e-4 * (1 + Math.abs(y)), 'kept: scaled by 1/keep around the mean');
      }
    }
  }
  assert.ok(Math.abs(dropped / total - rate) < 0.05, `dropped share ${dropped / total}`);
  for (let k = 0; k < 200; k++) {
    const f = data.items.freq[data.samples.item[k]];
    assert.ok(tr.freq[k] >= 0 && tr.freq[k] <= f, 'uniform freq in [0, own freq]');
  }
  const zero = copy(new BatchAssembler(data, TINY_MODALITIES, 4, 3, 200, false, { freq: 'zero' }).fill(order, 0, 200, new Rng(1)));
  assert.ok(zero.freq.every((x) => x === 0));
  const md = copy(new BatchAssembler(data, TINY_MODALITIES, 4, 3, 200, false, { modalityDropout: 0.5 }).fill(order, 0, 200, new Rng(2)));
  const off = md.presence.reduce((a, p) => a + (p === 0 ? 1 : 0), 0) / md.presence.length;
  assert.ok(Math.abs(off - 0.5) < 0.08, `modality dropout share ${off}`);
  TINY_MODALITIES.forEach((s, m) => {
    for (let k = 0; k < 200; k++) {
      if (md.presence[k * 3 + m] === 0) assert.ok(md[s.modality].subarray(k * s.dim, (k + 1) * s.dim).every((x) => x === 0), 'a dropped modality is fed as missing');
    }
  });
});

test('validation GAUC: per-user AUC weighted by the user\'s samples, users with one label left out', () => {
  // user 0: AUC 1 (2 samples); user 1: AUC 0.5 (4 samples, 2 of 4 pairs won); user 2: positives only (left out)
  const scores = Float32Array.of(0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.5);
  const labels = Uint8Array.of(1, 0, 1, 1, 0, 0, 1);
  const users = Int32Array.of(0, 0, 1, 1, 1, 1, 2);
  assert.equal(groupedAuc(scores, labels, users), (2 * 1 + 4 * 0.5) / 6);
  assert.ok(Number.isNaN(groupedAuc(Float32Array.of(1, 2), Uint8Array.of(1, 1), Int32Array.of(0, 1))));
});

test('linear prior: fitted on the training posts only (all posts for the export), and the exported model computes c + sum_m raw_m A_m + presence B (1e-5), missing modalities included', async () => {
  const data = world({ contentStrength: 1, seed: 4, items: 200, samples: 3000, missingRate: 0.3 });
  const rng = new Rng(9);
  const d = 8;
  const linear = {
    modalities: MODS.map((m) => m.modality),
    weights: MODS.map((m) => Float32Array.from({ length: m.dim * d }, () => rng.normal() * 0.1)),
    presence: Float32Array.from({ length: MODS.length * d }, () => rng.normal()),
    bias: Float32Array.from({ length: d }, () => rng.normal()),
  };
  const calls: number[][] = [];
  const base = config({ prior: 'tag-average', maxEpochs: 2 });
  const c = memerConfig({ architecture: { ...base.architecture, prior: 'linear' }, loss: base.loss, training: base.training });
  const r = await trainMemer({ ...data, fitLinearPrior: (items) => (calls.push(Array.from(items)), linear) }, c);
  const { trainItems } = splitByItem(data, c.training.validationFraction, c.training.seed);
  assert.deepEqual(calls[0], Array.from(trainItems), 'the fit sees the training posts, never the validation posts');
  assert.equal(calls[1].length, data.items.count, 'the exported prior is refitted on every post');
  assert.equal(r.prior!.kind, 'linear');
  // At the residual's zero output layer the model is its prior.
  const weights = new Map(r.weights);
  for (const name of ['dec1.out.W', 'dec1.out.b']) weights.set(name, new Float32Array(weights.get(name)!.length));
  const bytes = exportInferenceModel({ ...r, weights }, { signal: 's', mediaType: 'video', version: 'lin' });
  assert.deepEqual(readMemerInfo(bytes).inputs, ['visual', 'audio', 'text', 'presence', 'freq'], 'no tags input');
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  try {
    const embedder = await MemerEmbedder.load(rt, 'lin', bytes);
    const items = Array.from({ length: 40 }, (_, i) => i);
    const posts = items.map((i) => post(data, i));
    const got = await embedder.embedMany(posts);
    let worst = 0;
    let missing = 0;
    posts.forEach((p, k) => {
      const want = Float64Array.from(linear.bias);
      MODS.forEach((m, b) => {
        const x = p.features[m.modality];
        if (!x) return void missing++;
        for (let j = 0; j < d; j++) want[j] += linear.presence[b * d + j];
        for (let a = 0; a < m.dim; a++) for (let j = 0; j < d; j++) want[j] += x[a] * linear.weights[b][a * d + j];
      });
      for (let j = 0; j < d; j++) worst = Math.max(worst, Math.abs(got[k * d + j] - want[j]) / (1 + Math.abs(want[j])));
    });
    assert.ok(missing > 0, 'some posts lack a modality');
    assert.ok(worst < 1e-5, `worst relative difference ${worst}`);
  } finally {
    await rt.dispose();
  }
});

test('target weights: early posts (weight 0) add nothing to L_w and L_recon but still train L_rec', async () => {
  const data = world({ contentStrength: 1, seed: 6, items: 200, samples: 3000 });
  const c = config({ prior: 'none', maxEpochs: 2 });
  const none = await trainMemer({ ...data, items: { ...data.items, targetWeight: new Float32Array(data.items.count) } }, c);
  for (const e of none.history) {
    assert.equal(e.train.l_w, 0, 'no target: no Wasserstein term');
    assert.equal(e.train.l_recon, 0, 'no target: no reconstruction term');
    assert.ok(e.train.l_rec > 0);
  }
  const half = await trainMemer({ ...data, items: { ...data.items, targetWeight: Float32Array.from({ length: data.items.count }, (_, i) => i % 2) } }, c);
  const all = await trainMemer(data, c);
  assert.ok(half.history[0].train.l_recon > 0 && half.history[0].train.l_recon < all.history[0].train.l_recon, `half the targets: L_recon ${half.history[0].train.l_recon} vs ${all.history[0].train.l_recon}`);
});
