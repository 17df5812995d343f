/**
 * MEMER training loop: item-level validation split, normalisation statistics from the training items, shuffled
 * mini-batches per epoch, validation after each epoch, early stopping that keeps the best epoch's weights.
 *
 * Glossary
 *   epoch        one pass over the training samples in a fresh random order
 *   monitor      validation AUC of S = p_rec . v_user (higher is better) or the weighted validation loss (lower)
 *   patience     epochs without improvement before stopping
 */
import { Rng } from '../graph/rng.js';
import { OnnxRuntime } from '../onnx/runtime.js';
import type { MemerConfig } from './config.js';
import { BatchAssembler, checkData, splitByItem, type MemerTrainingData } from './data.js';
import { TrainingEngine, type StepMetrics } from './engine.js';
import { modalityStats } from './features.js';
import { auc } from '../metrics.js';
import { buildMemerGraph, type MemerGraph, type StatsByModality } from './model.js';

export interface ValidationMetrics extends StepMetrics {
  auc: number;
  samples: number;
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

export async function validate(engine: TrainingEngine, assembler: BatchAssembler, order: Int32Array, labels: Uint8Array): Promise<ValidationMetrics> {
  const mean = new Mean();
  const scores = new Float32Array(order.length);
  const y = new Uint8Array(order.length);
  for (let start = 0; start < order.length; start += assembler.capacity) {
    const n = Math.min(assembler.capacity, order.length - start);
    const out = await engine.evaluate(assembler.fill(order, start, n));
    mean.add(out, n);
    scores.set(out.score, start);
    for (let k = 0; k < n; k++) y[start + k] = labels[order[start + k]];
  }
  // A non-finite score (a diverging model) gives an undefined AUC rather than an error, as before.
  const finite = scores.every(Number.isFinite);
  return { ...mean.value(), auc: finite ? auc(scores, y) : NaN, samples: order.length };
}

function better(monitor: 'auc' | 'loss', a: ValidationMetrics, b: ValidationMetrics | undefined): boolean {
  if (!b) return true;
  if (monitor === 'auc') return a.auc > b.auc || (Number.isNaN(b.auc) && !Number.isNaN(a.auc));
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
  const model = buildMemerGraph(config, stats);
  const ownRuntime = !options.runtime;
  const runtime = options.runtime ?? new OnnxRuntime({ provider: 'cpu', intraOpThreads: training.threads });
  const engine = await TrainingEngine.create(runtime, model, training.adam);
  const batch = Math.min(training.batchSize, Math.max(split.train.length, split.validation.length));
  const trainAsm = new BatchAssembler(data, arch.modalities, arch.embeddingDim, arch.latentDim, batch, arch.sampleLatent);
  const rng = new Rng(training.seed ^ 0x7a11);
  const history: EpochRecord[] = [];
  let best: ValidationMetrics | undefined;
  let bestWeights = engine.weights();
  let bestEpoch = 0;
  let sinceBest = 0;
  try {
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
      const validation = split.validation.length ? await validate(engine, trainAsm, split.validation, data.samples.label) : undefined;
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
  return {
    config, model, stats, weights: bestWeights, bestEpoch, best, history,
    seconds: (Date.now() - t0) / 1000,
    trainSamples: split.train.length,
    validationSamples: split.validation.length,
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
  };
}
