/**
 * A trained FFM: the feature space, the hyper-parameters and the interleaved weight array (see kernel.ts for the
 * layout), with prediction and latent-vector access.
 *
 * Glossary
 *   w_{j,f}   latent vector (k floats) of feature j towards field f
 *   phi(x)    the logit; p(x) = 1 / (1 + exp(-phi(x)))
 */
import { Rng } from '../../lib/random.js';
import { FfmError } from './errors.js';
import type { FeatureSpace, FfmData } from './data.js';
import { biasLength, biasOffset, featureStride, rowLogit } from './kernel.js';
import type { FfmParams } from './params.js';

export interface EpochRecord {
  epoch: number;
  /** Mean training log loss over the epoch's rows (each measured just before its own update). */
  trainLoss: number;
  /** Mean validation log loss after the epoch, or null without a validation set. */
  validLoss: number | null;
  seconds: number;
  /** CPU seconds the whole process used during the epoch (all threads); below threads x seconds on a busy machine. */
  cpuSeconds: number;
  rowsPerSecond: number;
}

export interface FfmModel {
  readonly params: FfmParams;
  readonly space: FeatureSpace;
  /**
   * numFeatures x m blocks of (k weights, k AdaGrad accumulators), then, with params.biases, the bias tail
   * (b_0, G_0, then b_j, G_j per feature; see kernel.ts).
   */
  readonly weights: Float32Array;
  /** One record per epoch run. */
  readonly history: readonly EpochRecord[];
  /** 1-based epoch whose weights the model holds (the best validation loss, or the last epoch without validation). */
  readonly bestEpoch: number;
}

/** Start of the bias tail in the weights for this space and params, or -1 without biases. */
export function biasBaseOf(space: FeatureSpace, params: FfmParams): number {
  return params.biases ? biasOffset(space.numFeatures, space.fields.length, params.k) : -1;
}

/**
 * Initial weights: w uniform in [0, initScale / sqrt(k)) (libffm, init 'uniform') or N(0, (initScale / sqrt(k))^2)
 * (init 'normal'); G = 1; biases 0 with G = 1. In a SharedArrayBuffer when `shared`. The 'uniform' draws are those
 * of earlier versions for the same seed.
 */
export function initWeights(space: FeatureSpace, params: FfmParams, shared: boolean): Float32Array {
  const m = space.fields.length;
  const k = params.k;
  const latent = space.numFeatures * featureStride(m, k);
  const length = latent + (params.biases ? biasLength(space.numFeatures) : 0);
  if (length > 2 ** 31 - 1) throw new FfmError('BAD_PARAM', `${space.numFeatures} features x ${m} fields x 2k floats exceeds one typed array`);
  const W = shared ? new Float32Array(new SharedArrayBuffer(Math.max(4, length * 4))).subarray(0, length) : new Float32Array(length);
  const rng = new Rng(params.seed);
  const scale = params.initScale / Math.sqrt(k);
  const normal = params.init === 'normal';
  for (let block = 0; block < latent; block += 2 * k) {
    for (let d = 0; d < k; d++) {
      W[block + d] = (normal ? rng.gaussian() : rng.next()) * scale;
      W[block + k + d] = 1;
    }
  }
  for (let at = latent; at < length; at += 2) W[at + 1] = 1; // biases start at 0, their AdaGrad sums at 1
  return W;
}

function checkSpace(model: FfmModel, data: FfmData): void {
  const a = model.space, b = data.space;
  const same = a.fields.length === b.fields.length && a.fields.every((f, i) => f.name === b.fields[i].name && f.size === b.fields[i].size);
  if (!same) throw new FfmError('UNKNOWN_FIELD', `data fields (${b.fields.map((f) => f.name).join(', ')}) do not match the model's (${a.fields.map((f) => f.name).join(', ')})`);
}

/** phi(x) for every row of `data`. */
export function predictLogits(model: FfmModel, data: FfmData): Float32Array {
  checkSpace(model, data);
  const out = new Float32Array(data.rows);
  const m = model.space.fields.length;
  const bias = biasBaseOf(model.space, model.params);
  for (let i = 0; i < data.rows; i++) out[i] = rowLogit(model.weights, data, i, m, model.params.k, model.params.normalize, bias);
  return out;
}

/** Mean log loss of the model on `data` (forward pass only). */
export function meanLogLoss(weights: Float32Array, data: FfmData, params: FfmParams): number {
  const m = data.space.fields.length;
  const bias = biasBaseOf(data.space, params);
  let sum = 0;
  for (let i = 0; i < data.rows; i++) {
    const t = rowLogit(weights, data, i, m, params.k, params.normalize, bias);
    const z = data.labels[i] === 1 ? -t : t;
    sum += z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  }
  return sum / data.rows;
}

/** Offset in `weights` of w_{j,f} for global feature j and field index f. */
export function blockOffset(model: FfmModel, feature: number, towardsField: number): number {
  return (feature * model.space.fields.length + towardsField) * 2 * model.params.k;
}

/**
 * The latent vectors of every feature of field `of` towards field `towards`, as a (size_of x k) row-major matrix.
 * For of = post, towards = user this is the post embedding; for of = user, towards = post the user embedding.
 */
export function fieldVectors(model: FfmModel, of: number, towards: number): Float32Array {
  const { space, params, weights } = model;
  if (!(of >= 0 && of < space.fields.length) || !(towards >= 0 && towards < space.fields.length)) {
    throw new FfmError('UNKNOWN_FIELD', `field indices ${of}, ${towards} are not both in [0, ${space.fields.length})`);
  }
  const k = params.k;
  const size = space.fields[of].size;
  const out = new Float32Array(size * k);
  for (let i = 0; i < size; i++) {
    const at = blockOffset(model, space.offsets[of] + i, towards);
    out.set(weights.subarray(at, at + k), i * k);
  }
  return out;
}

/** b_0 (0 without biases). */
export function globalBias(model: FfmModel): number {
  const base = biasBaseOf(model.space, model.params);
  return base < 0 ? 0 : model.weights[base];
}

/** b_j for every feature of field `of` (zeros without biases). */
export function fieldBiases(model: FfmModel, of: number): Float32Array {
  const { space } = model;
  if (!(of >= 0 && of < space.fields.length)) throw new FfmError('UNKNOWN_FIELD', `field index ${of} is not in [0, ${space.fields.length})`);
  const out = new Float32Array(space.fields[of].size);
  const base = biasBaseOf(space, model.params);
  if (base < 0) return out;
  for (let i = 0; i < out.length; i++) out[i] = model.weights[base + 2 + 2 * (space.offsets[of] + i)];
  return out;
}
