/**
 * MEMER training loop: item-level validation split, normalisation statistics from the training items, shuffled
 * mini-batches per epoch, validation after each epoch, early stopping that keeps the best epoch's weights.
 *
 * Glossary
 *   epoch        one pass over the training samples in a fresh random order
 *   monitor      validation AUC of S = p_rec . v_user, or its GAUC (per-user AUC, weighted by the user's samples)
 *                (higher is better), or the weighted validation loss (lower)
 *   patience     epochs without improvement before stopping
 *   epoch 0      with a prior (architecture.prior), the prior itself (the residual's output layer at 0: the untrained
 *                model when residualInit is 0) is validated first and kept when no epoch beats it (bestEpoch 0)
 */
import { Rng } from '../graph/rng.js';
import { OnnxRuntime } from '../onnx/runtime.js';
import { SOFTMAX_BATCH, type MemerConfig } from './config.js';
import { BatchAssembler, checkData, splitByItem, type MemerTrainingData } from './data.js';
import { TrainingEngine, type StepMetrics } from './engine.js';
import { modalityStats } from './features.js';
import { auc, perUserAuc } from '../metrics.js';
import { buildMemerGraph, type MemerGraph, type StatsByModality } from './model.js';
import { fitPrior, itemTagColumns, linearPrior, type Prior } from './prior.js';

export interface ValidationMetrics extends StepMetrics {
  auc: number;
  /** per-user AUC, weighted by the user's validation samples, over users with both labels */
  gauc: number;
  samples: number;
  /** freq the validation posts were fed */
  freq: 'observed' | 'zero';
  /** with freq 'observed': AUC and GAUC of the same posts fed freq 0 (as the evaluation feeds a cold post) */
  zeroFreq?: { auc: number; gauc: number };
}

export interface EpochRecord {
  epoch: number;
  train: StepMetrics;
  validation: ValidationMetrics | undefined;
  seconds: number;
  samplesPerSecond: number;
}

export interface TrainProgress {
  epoch: number;
  maxEpochs: number;
  batch: number;
  batches: number;
  loss: number;
  samplesPerSecond: number;
}

export interface TrainerOptions {
  /** sessions come from here (default: a CPU runtime with config.training.threads intra-op threads) */
  runtime?: OnnxRuntime;
  /** called after each batch */
  onProgress?: (p: TrainProgress) => void;
  /** called after each epoch */
  onEpoch?: (r: EpochRecord) => void;
  /** stop starting new epochs after this Date.now() value (the search budget) */
  deadline?: number;
}

export interface TrainingResult {
  config: MemerConfig;
  model: MemerGraph;
  stats: StatsByModality;
  /** weights of the best epoch */
  weights: Map<string, Float32Array>;
  bestEpoch: number;
  best: ValidationMetrics | undefined;
  history: EpochRecord[];
  seconds: number;
  trainSamples: number;
  validationSamples: number;
  /** the fitted prior (architecture.prior != 'none'), part of the graph: refitted on every item with priorRefit */
  prior?: Prior;
}

/** Weighted mean of step metrics over batches. */
class Mean {
  private n = 0;
  private sums = { loss: 0, l_w: 0, l_recon: 0, l_rec: 0 };
  add(m: StepMetrics, count: number): void {
    this.n += count;
    for (const k of Object.keys(this.sums) as (keyof StepMetrics)[]) this.sums[k] += m[k] * count;
  }
  value(): StepMetrics {
    const n = this.n || 1;
    return { loss: this.sums.loss / n, l_w: this.sums.l_w / n, l_recon: this.sums.l_recon / n, l_rec: this.sums.l_rec / n };
  }
}

/** GAUC of the validation scores (src/ml/metrics.ts perUserAuc). */
export function groupedAuc(scores: Float32Array, labels: Uint8Array, users: Int32Array): number {
  return perUserAuc(users, scores, labels).gauc;
}

async function scoreValidation(engine: TrainingEngine, assembler: BatchAssembler, order: Int32Array, freq: number | undefined): Promise<{ mean: StepMetrics; scores: Float32Array }> {
  const mean = new Mean();
  const scores = new Float32Array(order.length);
  for (let start = 0; start < order.length; start += assembler.capacity) {
    const n = Math.min(assembler.capacity, order.length - start);
    const out = await engine.evaluate(assembler.fill(order, start, n, undefined, freq));
    mean.add(out, n);
    scores.set(out.score, start);
  }
  return { mean: mean.value(), scores };
}

/**
 * Losses, AUC and GAUC of the validation samples `order` with the engine's current weights. `freq` 'zero' feeds every
 * validation post freq 0; 'observed' (default) their own, and then also reports the metrics at freq 0.
 */
export async function validate(
  engine: TrainingEngine,
  assembler: BatchAssembler,
  order: Int32Array,
  labels: Uint8Array,
  users?: Int32Array,
  freq: 'observed' | 'zero' = 'observed',
  alsoZeroFreq = false,
): Promise<ValidationMetrics> {
  const y = Uint8Array.from(order, (s) => labels[s]);
  const u = users ? Int32Array.from(order, (s) => users[s]) : new Int32Array(order.length);
  // A non-finite score (a diverging model) gives an undefined AUC rather than an error, as before.
  const metrics = (scores: Float32Array) => {
    const finite = scores.every(Number.isFinite);
    return { auc: finite ? auc(scores, y) : NaN, gauc: finite && users ? groupedAuc(scores, y, u) : NaN };
  };
  const main = await scoreValidation(engine, assembler, order, freq === 'zero' ? 0 : undefined);
  const out: ValidationMetrics = { ...main.mean, ...metrics(main.scores), samples: order.length, freq };
  if (freq === 'observed' && alsoZeroFreq) out.zeroFreq = metrics((await scoreValidation(engine, assembler, order, 0)).scores);
  return out;
}

function better(monitor: 'auc' | 'gauc' | 'loss', a: ValidationMetrics, b: ValidationMetrics | undefined): boolean {
  if (!b) return true;
  if (monitor === 'auc' || monitor === 'gauc') return a[monitor] > b[monitor] || (Number.isNaN(b[monitor]) && !Number.isNaN(a[monitor]));
  return a.loss < b.loss;
}

export async function trainMemer(data: MemerTrainingData, config: MemerConfig, options: TrainerOptions = {}): Promise<TrainingResult> {
  const t0 = Date.now();
  const { architecture: arch, training } = config;
  checkData(data, arch.modalities, arch.embeddingDim);
  const split = splitByItem(data, training.validationFraction, training.seed);
  if (split.train.length === 0) throw new Error('no training samples after the validation split');
  const stats: StatsByModality = {};
  for (const spec of arch.modalities) {
    stats[spec.modality] = modalityStats(data.items.features[spec.modality]!, split.trainItems, data.items.presence?.[spec.modality]);
  }
  const priorOn = (items: Int32Array): Prior | undefined => {
    if (arch.prior === 'none') return undefined;
    // The averages are of mature targets only (an early post's row is no target).
    const w = data.items.targetWeight;
    const targets = w ? items.filter((i) => w[i] > 0) : items;
    if (arch.prior !== 'linear') return fitPrior(arch.prior, data.items.embeddings, arch.embeddingDim, targets, data.items.tags, { maxTags: arch.priorMaxTags, smoothing: arch.priorSmoothing });
    if (!data.fitLinearPrior) throw new Error("prior 'linear' needs the data's fitLinearPrior");
    return linearPrior(data.fitLinearPrior(items), arch.embeddingDim, items.length);
  };
  const prior = priorOn(split.trainItems);
  const weighted = !!data.items.targetWeight;
  const model = buildMemerGraph(config, stats, prior, weighted);
  const ownRuntime = !options.runtime;
  const runtime = options.runtime ?? new OnnxRuntime({ provider: 'cpu', intraOpThreads: training.threads });
  const engine = await TrainingEngine.create(runtime, model, training.adam);
  const softmax = config.loss.recommendation === 'softmax';
  const batch = Math.min(training.batchSize, softmax ? SOFTMAX_BATCH : Infinity, Math.max(split.train.length, split.validation.length));
  const tagColumns = prior && prior.tags.length > 0 ? { T: prior.tags.length, ...itemTagColumns(prior, data.items.tags, data.items.count) } : undefined;
  const trainAsm = new BatchAssembler(data, arch.modalities, arch.embeddingDim, arch.latentDim, batch, arch.sampleLatent, {
    tagColumns, usersTransposed: softmax, freq: training.freq, inputDropout: training.inputDropout, modalityDropout: training.modalityDropout, stats,
  });
  const rng = new Rng(training.seed ^ 0x7a11);
  const history: EpochRecord[] = [];
  let best: ValidationMetrics | undefined;
  let bestWeights = engine.weights();
  let bestEpoch = 0;
  let sinceBest = 0;
  // A model trained at freq 0 is validated at freq 0 (its freq input never saw anything else).
  const validationFreq = training.freq === 'zero' ? 'zero' : training.validationFreq;
  const runValidation = () => validate(engine, trainAsm, split.validation, data.samples.label, data.samples.user, validationFreq, true);
  try {
    if (prior && split.validation.length) {
      // Epoch 0: the prior itself (the residual's output layer at 0), kept unless an epoch beats it. With residualInit
      // > 0 training then starts from the initial weights, not from these.
      const e0 = performance.now();
      const init = engine.weights();
      const atPrior = new Map(init);
      for (const name of ['dec1.out.W', 'dec1.out.b']) atPrior.set(name, new Float32Array(init.get(name)!.length));
      engine.setWeights(atPrior);
      const validation = await runValidation();
      bestWeights = engine.weights();
      engine.setWeights(init);
      const zero = { loss: NaN, l_w: NaN, l_recon: NaN, l_rec: NaN };
      const record: EpochRecord = { epoch: 0, train: zero, validation, seconds: (performance.now() - e0) / 1000, samplesPerSecond: 0 };
      history.push(record);
      options.onEpoch?.(record);
      best = validation;
    }
    for (let epoch = 1; epoch <= training.maxEpochs; epoch++) {
      if (options.deadline !== undefined && Date.now() >= options.deadline && epoch > 1) break;
      const e0 = performance.now();
      const order = rng.shuffle(Int32Array.from(split.train));
      const mean = new Mean();
      const batches = Math.ceil(order.length / batch);
      for (let b = 0; b < batches; b++) {
        const start = b * batch;
        const n = Math.min(batch, order.length - start);
        const m = await engine.step(trainAsm.fill(order, start, n, rng));
        if (!Number.isFinite(m.loss)) throw new Error(`training diverged at epoch ${epoch}, batch ${b + 1}: loss ${m.loss}`);
        mean.add(m, n);
        options.onProgress?.({ epoch, maxEpochs: training.maxEpochs, batch: b + 1, batches, loss: m.loss, samplesPerSecond: ((start + n) * 1000) / (performance.now() - e0) });
      }
      const validation = split.validation.length ? await runValidation() : undefined;
      const seconds = (performance.now() - e0) / 1000;
      const record: EpochRecord = { epoch, train: mean.value(), validation, seconds, samplesPerSecond: order.length / seconds };
      history.push(record);
      options.onEpoch?.(record);
      if (!validation || better(training.monitor, validation, best)) {
        best = validation;
        bestWeights = engine.weights();
        bestEpoch = epoch;
        sinceBest = 0;
      } else if (++sinceBest >= training.patience) break;
    }
  } finally {
    await engine.dispose();
    if (ownRuntime) await runtime.dispose();
  }
  let finalPrior = prior;
  let finalModel = model;
  if (prior && arch.priorRefit && split.validation.length) {
    // The averages baselines average over every training post: so does the exported prior (the weights stay).
    const all = Int32Array.from({ length: data.items.count }, (_, i) => i);
    finalPrior = priorOn(all);
    finalModel = buildMemerGraph(config, stats, finalPrior, weighted);
  }
  return {
    config, model: finalModel, stats, weights: bestWeights, bestEpoch, best, history,
    seconds: (Date.now() - t0) / 1000,
    trainSamples: split.train.length,
    validationSamples: split.validation.length,
    prior: finalPrior,
  };
}

/** A JSON-ready summary of a training run (no weights). */
export function trainingSummary(r: TrainingResult): Record<string, unknown> {
  return {
    config: r.config,
    bestEpoch: r.bestEpoch,
    best: r.best,
    epochs: r.history.length,
    history: r.history,
    seconds: r.seconds,
    trainSamples: r.trainSamples,
    validationSamples: r.validationSamples,
    prior: r.prior ? { kind: r.prior.kind, tags: r.prior.tags.length, posts: r.prior.posts } : undefined,
  };
}
