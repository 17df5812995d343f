/**
 * HYBRID_MF options and their defaults. The defaults were chosen on TikTok cold items with a validation split of
 * training items, never test rows (docs/hybrid-mf.md, "TikTok, cold items").
 */
import type { Modality } from '../../datasets/types.js';

export type HybridLoss = 'warp' | 'bpr';

export interface HybridMfOptions {
  /** Embedding size d. */
  d: number;
  loss: HybridLoss;
  /** Maximum epochs (with validation: the selection run's cap; the refit runs the best epoch count). */
  epochs: number;
  /** Adagrad learning rate. */
  lr: number;
  /** L2 on the item-side parameters a pair touches (tag and id embeddings and biases, the dense map W and w_b). */
  itemAlpha: number;
  /** L2 on the user embedding a pair touches. */
  userAlpha: number;
  /** WARP: negatives drawn per positive before giving up on finding a violator. */
  maxSampled: number;
  /** WARP: cap on the rank weight L(k) (LightFM's MAX_LOSS), so one pair cannot take a huge step. */
  maxRankWeight: number;
  seed: number;
  /**
   * Fraction of the training items held out (with all their training positives) as pseudo-cold items for choosing the
   * epoch count; 0 trains `epochs` epochs with no selection.
   */
  validationFraction: number;
  /** Sampled negatives per validation positive (other held-out items the user has no positive with). */
  validationNegatives: number;
  /** Epochs without a better validation score before the selection run stops. */
  patience: number;
  /** After selection, retrain on all of `train` for the best epoch count (else keep the selection run's best state). */
  refit: boolean;
  /** Dense modalities used (null: every modality in ds.features). */
  modalities: readonly Modality[] | null;
  /** Per modality, at most this many principal components of the z-scored columns (null: keep every column). */
  denseDims: number | null;
  /** Each modality block is scaled to this root-mean-square norm over training items (comparable to a one-hot). */
  denseNorm: number;
  /** One-hot tag features (value 1/sqrt(#tags of the item), so the tag block has norm 1). */
  tags: boolean;
  /** The per-item id indicator for items with training positives (cold items never have it). */
  idFeature: boolean;
  /** How a training negative is drawn from the training items: uniformly, or in proportion to training positives. */
  negatives: 'uniform' | 'popularity';
  /** Initial embeddings ~ U(-0.5, 0.5) * initScale / d (LightFM: initScale 1). */
  initScale: number;
}

export const DEFAULT_HYBRID_MF_OPTIONS: Readonly<HybridMfOptions> = Object.freeze({
  d: 32,
  loss: 'bpr',
  epochs: 30,
  lr: 0.1,
  itemAlpha: 1e-5,
  userAlpha: 1e-5,
  maxSampled: 30,
  maxRankWeight: 10,
  seed: 1,
  validationFraction: 0.1,
  validationNegatives: 10,
  patience: 3,
  refit: true,
  modalities: null,
  denseDims: 32,
  denseNorm: 1,
  tags: true,
  idFeature: true,
  negatives: 'uniform',
  initScale: 1,
});

/** Defaults overridden by `o`, checked; throws RangeError naming the bad option. */
export function hybridMfOptions(o: Partial<HybridMfOptions> = {}): Readonly<HybridMfOptions> {
  const p: HybridMfOptions = { ...DEFAULT_HYBRID_MF_OPTIONS, ...o };
  const bad = (name: string, what: string): never => {
    throw new RangeError(`HYBRID_MF option ${name} must be ${what}, got ${String((p as unknown as Record<string, unknown>)[name])}`);
  };
  const int = (name: keyof HybridMfOptions, min: number) => {
    const v = p[name] as number;
    if (!(Number.isInteger(v) && v >= min)) bad(name, `an integer >= ${min}`);
  };
  const nonNeg = (name: keyof HybridMfOptions) => {
    const v = p[name] as number;
    if (!(Number.isFinite(v) && v >= 0)) bad(name, 'a finite number >= 0');
  };
  int('d', 1);
  int('epochs', 1);
  int('maxSampled', 1);
  int('validationNegatives', 1);
  int('patience', 1);
  if (p.loss !== 'warp' && p.loss !== 'bpr') bad('loss', '"warp" or "bpr"');
  if (p.negatives !== 'uniform' && p.negatives !== 'popularity') bad('negatives', '"uniform" or "popularity"');
  if (!(Number.isFinite(p.lr) && p.lr > 0)) bad('lr', 'a finite number > 0');
  nonNeg('itemAlpha');
  nonNeg('userAlpha');
  nonNeg('denseNorm');
  nonNeg('initScale');
  if (!(p.maxRankWeight >= 1)) bad('maxRankWeight', 'a number >= 1');
  if (!(p.validationFraction >= 0 && p.validationFraction < 1)) bad('validationFraction', 'in [0, 1)');
  if (p.denseDims !== null && !(Number.isInteger(p.denseDims) && p.denseDims >= 1)) bad('denseDims', 'null or an integer >= 1');
  if (!Number.isFinite(p.seed)) bad('seed', 'a finite number');
  return Object.freeze(p);
}
