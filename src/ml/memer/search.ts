/**
 * Random search over the loss weights, layer sizes, learning rate and weight decay (paper 2.1.3: "we select the set of values that produce the best
 * overall performance ... using random search").
 *
 * Glossary
 *   trial      one training run (with early stopping) at a sampled point of the space
 *   selection  validation AUC of S = p_rec . v_user, or, when training.monitor is 'loss', the validation recommendation
 *              loss L_rec: the weighted total loss is not comparable across different alpha/beta/gamma
 *   budget     at most `trials` runs and, if set, no new trial (or epoch) after `seconds`
 */
import { Rng } from '../graph/rng.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import { memerConfig, type LossWeights, type MemerConfig } from './config.js';
import type { MemerTrainingData } from './data.js';
import { trainMemer, type TrainerOptions, type TrainingResult, type ValidationMetrics } from './trainer.js';

export interface SearchSpace {
  /** [low, high] for alpha, sampled log-uniformly (a bound of 0 fixes the weight at 0 when both are 0) */
  readonly alpha: readonly [number, number];
  readonly beta: readonly [number, number];
  readonly gamma: readonly [number, number];
  /** choices for F */
  readonly semanticDim: readonly number[];
  /** choices for H_e */
  readonly encoderHidden: readonly number[];
  /** choices for H_d */
  readonly decoderHidden: readonly number[];
  /** [low, high] for Adam's learning rate, log-uniform */
  readonly lr: readonly [number, number];
  /** choices for the decoupled weight decay */
  readonly weightDecay: readonly number[];
}

export const DEFAULT_SEARCH_SPACE: SearchSpace = Object.freeze({
  alpha: [0.01, 10] as const,
  beta: [0.01, 10] as const,
  gamma: [0.1, 10] as const,
  semanticDim: [32, 64, 128],
  encoderHidden: [32, 64, 128],
  decoderHidden: [32, 64, 128],
  lr: [3e-4, 1e-2] as const,
  weightDecay: [0, 1e-4, 1e-3, 1e-2],
});

export interface SearchBudget {
  /** most trials */
  readonly trials: number;
  /** wall-clock budget in seconds (optional) */
  readonly seconds?: number;
}

export interface TrialRecord {
  trial: number;
  loss: LossWeights;
  semanticDim: number;
  encoderHidden: number;
  decoderHidden: number;
  lr: number;
  weightDecay: number;
  bestEpoch: number;
  epochs: number;
  validation: ValidationMetrics | undefined;
  seconds: number;
}

export interface SearchResult {
  best: TrainingResult;
  bestTrial: number;
  trials: TrialRecord[];
}

function logUniform(rng: Rng, [lo, hi]: readonly [number, number]): number {
  if (lo === hi) return lo;
  if (lo <= 0) throw new Error(`log-uniform range must be positive, got [${lo}, ${hi}]`);
  return Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

/** Selection score of a trial (higher is better). */
function selectionScore(base: MemerConfig, v: ValidationMetrics | undefined): number {
  if (!v) return -Infinity;
  const s = base.training.monitor === 'loss' ? -v.l_rec : v[base.training.monitor];
  return Number.isNaN(s) ? -Infinity : s;
}

export async function randomSearch(
  data: MemerTrainingData,
  base: MemerConfig,
  space: SearchSpace = DEFAULT_SEARCH_SPACE,
  budget: SearchBudget = { trials: 8 },
  options: TrainerOptions & { runtime?: OnnxRuntime; onTrial?: (t: TrialRecord) => void } = {},
): Promise<SearchResult> {
  const rng = new Rng(base.training.seed ^ 0x5ea4c);
  const deadline = budget.seconds !== undefined ? Date.now() + budget.seconds * 1000 : undefined;
  const trials: TrialRecord[] = [];
  let best: TrainingResult | undefined;
  let bestScore = -Infinity;
  let bestTrial = 0;
  for (let trial = 1; trial <= budget.trials; trial++) {
    if (deadline !== undefined && Date.now() >= deadline && best) break;
    const loss = { alpha: logUniform(rng, space.alpha), beta: logUniform(rng, space.beta), gamma: logUniform(rng, space.gamma), recommendation: base.loss.recommendation };
    const sizes = { semanticDim: pick(rng, space.semanticDim), encoderHidden: pick(rng, space.encoderHidden), decoderHidden: pick(rng, space.decoderHidden) };
    const adam = { ...base.training.adam, lr: logUniform(rng, space.lr), weightDecay: pick(rng, space.weightDecay) };
    const config = memerConfig({ architecture: { ...base.architecture, ...sizes }, loss, training: { ...base.training, adam } });
    const result = await trainMemer(data, config, { ...options, deadline });
    const record: TrialRecord = {
      trial, loss, ...sizes, lr: adam.lr, weightDecay: adam.weightDecay,
      bestEpoch: result.bestEpoch,
      epochs: result.history.length,
      validation: result.best,
      seconds: result.seconds,
    };
    trials.push(record);
    options.onTrial?.(record);
    const score = selectionScore(base, result.best);
    if (!best || score > bestScore) {
      best = result;
      bestScore = score;
      bestTrial = trial;
    }
  }
  if (!best) throw new Error('random search ran no trial');
  return { best, bestTrial, trials };
}
