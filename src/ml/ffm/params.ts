import { FfmError } from './errors.js';

/**
 * Hyper-parameters of FFM training. Defaults follow libffm (Juan et al. 2016) where it has one; k = 32 is the paper's
 * embedding size (section 3.1.4). Objects are frozen: derive variants with `ffmParams({ ...overrides })`.
 */
export interface FfmParams {
  /** k: latent factors per (feature, field) pair; the post and user embeddings are k-dimensional. */
  readonly k: number;
  /** eta: AdaGrad base learning rate (libffm -r, default 0.2). */
  readonly eta: number;
  /** lambda: L2 regularisation applied to every latent vector a row touches (libffm -l, default 2e-5). */
  readonly lambda: number;
  /** Maximum passes over the training rows (libffm -t, default 15). */
  readonly epochs: number;
  /** Instance normalisation: scale every row so that sum of x_j^2 = 1 (libffm default on; --no-norm turns it off). */
  readonly normalize: boolean;
  /** Worker threads for Hogwild training; 1 trains on the calling thread and is deterministic for a given seed. */
  readonly threads: number;
  /** Seed for weight initialisation, shuffling and negative sampling. */
  readonly seed: number;
  /** Shuffle the row order every epoch (libffm does). */
  readonly shuffle: boolean;
  /** Stop after this many epochs without a better validation log loss and restore the best epoch (libffm --auto-stop is 1). */
  readonly patience: number;
  /**
   * Initialisation of the latent vectors: 'uniform' is libffm's, uniform in [0, initScale / sqrt(k)) (all in the
   * positive orthant: two random vectors have cosine ~0.75); 'normal' is zero-mean N(0, (initScale / sqrt(k))^2).
   */
  readonly init: 'uniform' | 'normal';
  /** Scale s of the initialisation (see `init`); when not given, 1 for 'uniform' (libffm) and 0.1 for 'normal'. */
  readonly initScale: number;
  /**
   * Add a global bias b_0 and a linear term b_j per feature (the user, post and context features):
   * phi = b_0 + sum_j b_j x_j + r sum_{j1<j2} (...). Trained by the same AdaGrad step (accumulators start at 1);
   * libffm has none (off).
   */
  readonly biases: boolean;
  /** L2 on the per-feature biases b_j, applied to the biases a row touches (b_0 has none). */
  readonly biasLambda: number;
}

export const DEFAULT_FFM_PARAMS: FfmParams = Object.freeze({
  k: 32,
  eta: 0.2,
  lambda: 2e-5,
  epochs: 15,
  normalize: true,
  threads: 1,
  seed: 1,
  shuffle: true,
  patience: 1,
  init: 'uniform',
  initScale: 1,
  biases: false,
  biasLambda: 2e-5,
});

/** initScale when `init: 'normal'` is asked for without one: sigma = 0.1 / sqrt(k). */
export const NORMAL_INIT_SCALE = 0.1;

/** Defaults overridden by `overrides`, checked and frozen. */
export function ffmParams(overrides: Partial<FfmParams> = {}): FfmParams {
  const merged: FfmParams = { ...DEFAULT_FFM_PARAMS, ...overrides };
  const p: FfmParams = overrides.initScale === undefined && merged.init === 'normal' ? { ...merged, initScale: NORMAL_INIT_SCALE } : merged;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new FfmError('BAD_PARAM', `FFM parameter ${what}`);
  };
  check(Number.isInteger(p.k) && p.k >= 1 && p.k <= 1024, `k must be an integer in [1, 1024], got ${p.k}`);
  check(Number.isFinite(p.eta) && p.eta > 0, `eta must be > 0, got ${p.eta}`);
  check(Number.isFinite(p.lambda) && p.lambda >= 0, `lambda must be >= 0, got ${p.lambda}`);
  check(Number.isInteger(p.epochs) && p.epochs >= 1, `epochs must be an integer >= 1, got ${p.epochs}`);
  check(Number.isInteger(p.threads) && p.threads >= 1 && p.threads <= 64, `threads must be an integer in [1, 64], got ${p.threads}`);
  check(Number.isFinite(p.seed), `seed must be finite, got ${p.seed}`);
  check(Number.isInteger(p.patience) && p.patience >= 1, `patience must be an integer >= 1, got ${p.patience}`);
  check(Number.isFinite(p.initScale) && p.initScale >= 0, `initScale must be >= 0, got ${p.initScale}`);
  check(p.init === 'uniform' || p.init === 'normal', `init must be 'uniform' or 'normal', got ${String(p.init)}`);
  check(typeof p.biases === 'boolean', `biases must be a boolean, got ${String(p.biases)}`);
  check(Number.isFinite(p.biasLambda) && p.biasLambda >= 0, `biasLambda must be >= 0, got ${p.biasLambda}`);
  return Object.freeze(p);
}
