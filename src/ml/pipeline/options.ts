/**
 * Knobs of the training pipeline (FFM backbone -> maturity threshold M -> mature embeddings -> MEMER), typed and
 * frozen, one comment per field. Defaults suit a small simulated platform on 2 cores (about a minute); the paper's
 * values are noted where they differ. Derive variants with `pipelineOptions({ ...overrides })`.
 */
import type { Modality } from '../../datasets/types.js';
import type { FfmSearch } from '../ffm/backbones.js';
import type { NegativeSampling } from '../ffm/dataset.js';
import type { FfmParams } from '../ffm/params.js';
import type { MaturityParams } from '../maturity/replay.js';
import type { AdamConfig } from '../graph/optimizer.js';
import type { LossWeights, MemerArchitecture, TrainingConfig } from '../memer/config.js';
import type { SearchSpace } from '../memer/search.js';
import type { HybridMfOptions } from '../hybrid/options.js';
import type { RefitOptions } from '../maturity/refit.js';

export interface MemerOverrides {
  readonly architecture?: Partial<Omit<MemerArchitecture, 'modalities' | 'embeddingDim'>>;
  readonly loss?: Partial<LossWeights>;
  readonly training?: Partial<Omit<TrainingConfig, 'adam'>> & { readonly adam?: Partial<AdamConfig> };
}

export interface PipelineOptions {
  /** Signals to train; null = every signal of the dataset. */
  readonly signals: readonly string[] | null;
  /** FFM hyper-parameters (k = 32 is the paper's embedding size; threads > 1 trains with Hogwild workers). */
  readonly ffm: Partial<FfmParams>;
  /**
   * Serve bias-folded embeddings (src/ml/ffm/embeddings.ts foldedEmbeddings): SignalModel.posts [v_p, b_p, 1] and
   * users [v_u, 1/r, (b_0 + b_u)/r], so d = k + 2 and r v_u . v_p + b_0 + b_u + b_p = r (users . posts) is the
   * backbone's whole logit (without context fields). Needs ffm.biases. Off: d = k, the vectors only.
   */
  readonly foldBiases: boolean;
  /**
   * The backbone whose vectors are served and are MEMER's targets: 'ffm' (the paper's) or 'hybrid' (a LightFM-style
   * factorisation with content, hybrid-backbone.ts; d = k + 1, bias folded; the FFM still trains for its report and
   * the maturity replay).
   */
  readonly backbone: 'ffm' | 'hybrid';
  /** Hybrid backbone options (src/ml/hybrid/options.ts; the seed defaults to `seed`). */
  readonly hybrid: Partial<HybridMfOptions>;
  /** FFM hyper-parameter grid picked on the FFM's own validation rows (src/ml/ffm/backbones.ts FfmSearch); null = none. */
  readonly ffmSearch: FfmSearch | null;
  /** One FFM per (signal, media type) instead of one per signal (users then get one embedding per media type). */
  readonly ffmByMediaType: boolean;
  /** FFM context fields after user and post ('hour', 'media', 'tags'); none by default, so v_u . v_p is the whole score. */
  readonly contextFields: readonly string[];
  /** Negative sampling for signals logged as positives only (docs/ffm.md); also used for MEMER's BCE samples. */
  readonly negatives: Partial<NegativeSampling>;
  /** Fraction of each signal's interactions the FFM holds out for early stopping and its AUC report. */
  readonly ffmValidationFraction: number;
  /** Maturity replay (Figure 1); snapshotEvery 0 = auto: about `curvePoints` points up to the 95th view percentile. */
  readonly maturity: Partial<MaturityParams>;
  /** The served backbone's refit curve (the hybrid's M, src/ml/maturity/refit.ts); the seed defaults to `seed`. */
  readonly refit: Partial<RefitOptions>;
  /** Points the auto snapshot interval aims for on the curve. */
  readonly curvePoints: number;
  /** A fixed M for every signal and media type (skips the replay); null = read M from the curve. */
  readonly fixedThreshold: number | null;
  /**
   * Floor on M read from the curve (source 'floor' when it applies): a post with fewer views than this is never
   * "mature", however still its vector looks; the mature embedding is MEMER's target and the evaluation's reference.
   */
  readonly minThreshold: number;
  /** When the curve gives no M, or M leaves fewer mature posts than this, M becomes the view count that keeps this many. */
  readonly minMaturePosts: number;
  /** Posts (1 byte per item) whose interactions estimate M and that may train MEMER; null = every post. */
  readonly trainItems: Uint8Array | null;
  /** Modalities MEMER may use (each media type uses those present for it); null = every feature file loaded. */
  readonly modalities: readonly Modality[] | null;
  /** MEMER hyper-parameter overrides (architecture sizes, loss weights, training loop). */
  readonly memer: MemerOverrides;
  /** Mini-batch size for MEMER; 0 = auto: samples / 16 clamped to [256, 16384] (the paper: 16384 on billions of rows). */
  readonly memerBatchSize: number;
  /** At most this many (user, post, label) samples per MEMER model (a uniform subsample beyond it). */
  readonly memerMaxSamples: number;
  /**
   * Which training posts train MEMER: 'all' (every post with a view, the early ones through L_rec only: their backbone
   * vector is no target yet, DropoutNet-style masking) or 'mature' (views >= M only: the paper).
   */
  readonly memerPosts: 'all' | 'mature';
  /** Fewer posts than this (of memerPosts) for a (signal, media type): no MEMER model (null in the result). */
  readonly minMemerPosts: number;
  /**
   * Shift each MEMER model's output, in the dimensions where every user vector holds the same value (the post bias),
   * so that its mean over its training posts at freq 0 is the backbone's own (calibration.ts): models of different
   * media types then rank together as the backbone's vectors do. No per-user order within a model changes.
   */
  readonly calibrateOffsets: boolean;
  /**
   * A linear prior (architecture.prior 'linear') also reads the post's tags: per tag, the mean of what the content map
   * leaves unexplained on the training posts (memer-model.ts residualTagRows), so MEMER starts from content and tags,
   * as the hybrid backbone's own content-only vector does. Off: content only.
   */
  readonly priorTags: boolean;
  /** Random-search trials over alpha, beta, gamma and layer sizes (paper 2.1.3); 0 or 1 = train once with the defaults. */
  readonly searchTrials: number;
  /** Wall-clock budget of one search in seconds; null = trials only. */
  readonly searchSeconds: number | null;
  /** Random-search space (null = DEFAULT_SEARCH_SPACE of src/ml/memer/search.ts). */
  readonly searchSpace: SearchSpace | null;
  /** Seed for every random choice (FFM, maturity replay, negatives, MEMER, subsampling). */
  readonly seed: number;
  /** Threads for onnxruntime (MEMER training and export checks). */
  readonly threads: number;
  /** Prefix of the exported models' version ids (`<version>-<signal>-<mediaType>`). */
  readonly version: string;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = Object.freeze({
  signals: null,
  ffm: Object.freeze({ epochs: 10, threads: 1 }),
  foldBiases: false,
  backbone: 'hybrid',
  hybrid: Object.freeze({}),
  ffmSearch: null,
  ffmByMediaType: false,
  contextFields: Object.freeze([]) as readonly string[],
  negatives: Object.freeze({}),
  ffmValidationFraction: 0.1,
  maturity: Object.freeze({ compare: 'consecutive', snapshotEvery: 0, epsilon: 0.03, minPosts: 20 }),
  refit: Object.freeze({}),
  curvePoints: 40,
  fixedThreshold: null,
  minThreshold: 1,
  minMaturePosts: 50,
  trainItems: null,
  modalities: null,
  calibrateOffsets: true,
  priorTags: true,
  // Fewer epochs and a higher learning rate than the trainer's defaults (30, lr 1e-3): small data gives few steps.
  // The residual on a linear prior (the backbone's content-only vectors regressed on the content), freq drawn in
  // [0, own] and selection on validation GAUC at freq 0 were chosen on validation GAUC of the training posts
  // (docs/memer.md, "Backbones and the linear prior"); the loss weights are the search's pick (same section).
  memer: Object.freeze({
    architecture: Object.freeze({ prior: 'linear' as const }),
    loss: Object.freeze({ alpha: 0.1, beta: 1, gamma: 10 }),
    training: Object.freeze({ maxEpochs: 20, patience: 3, freq: 'uniform' as const, monitor: 'gauc' as const, validationFreq: 'zero' as const, adam: Object.freeze({ lr: 0.003 }) }),
  }),
  memerBatchSize: 0,
  memerMaxSamples: 200_000,
  memerPosts: 'all',
  minMemerPosts: 30,
  searchTrials: 0,
  searchSeconds: null,
  searchSpace: null,
  seed: 1,
  threads: 1,
  version: 'pipeline',
});

/**
 * The paper's configuration, as the pipeline trained before issue 16: the FFM backbone (M from its replay), MEMER on
 * the mature posts only, no prior, freq as observed, selection on validation AUC. The science test's recorded
 * references and `memer bench pipeline`'s baseline use it.
 */
export const PAPER_PIPELINE_OPTIONS: Partial<PipelineOptions> = Object.freeze({
  backbone: 'ffm',
  memerPosts: 'mature',
  memer: Object.freeze({
    architecture: Object.freeze({ prior: 'none' as const }),
    training: Object.freeze({ freq: 'observed' as const, monitor: 'auc' as const, validationFreq: 'observed' as const }),
  }),
});

/** Defaults overridden by `overrides`, checked and frozen; throws RangeError naming the bad option. */
export function pipelineOptions(overrides: Partial<PipelineOptions> = {}): PipelineOptions {
  const d = DEFAULT_PIPELINE_OPTIONS;
  const o: PipelineOptions = Object.freeze({
    ...d,
    ...overrides,
    ffm: Object.freeze({ ...d.ffm, ...overrides.ffm }),
    hybrid: Object.freeze({ ...d.hybrid, ...overrides.hybrid }),
    refit: Object.freeze({ ...d.refit, ...overrides.refit }),
    maturity: Object.freeze({ ...d.maturity, ...overrides.maturity }),
    memer: Object.freeze({
      architecture: Object.freeze({ ...d.memer.architecture, ...overrides.memer?.architecture }),
      loss: Object.freeze({ ...d.memer.loss, ...overrides.memer?.loss }),
      training: Object.freeze({ ...d.memer.training, ...overrides.memer?.training, adam: Object.freeze({ ...d.memer.training?.adam, ...overrides.memer?.training?.adam }) }),
    }),
  });
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new RangeError(`pipeline option ${what}`);
  };
  check(!o.foldBiases || o.ffm.biases === true, 'foldBiases needs ffm.biases: true');
  check(o.memerPosts === 'all' || o.memerPosts === 'mature', `memerPosts must be all or mature, got ${o.memerPosts}`);
  check(o.backbone === 'ffm' || o.backbone === 'hybrid', `backbone must be ffm or hybrid, got ${o.backbone}`);
  check(o.backbone === 'ffm' || (!o.ffmByMediaType && !o.foldBiases), 'the hybrid backbone is per signal and folds its own bias: no ffmByMediaType or foldBiases');
  check(o.ffmSearch === null || o.ffmValidationFraction > 0, 'ffmSearch needs ffmValidationFraction > 0');
  check(o.ffmValidationFraction >= 0 && o.ffmValidationFraction < 1, `ffmValidationFraction must be in [0, 1), got ${o.ffmValidationFraction}`);
  check(Number.isInteger(o.curvePoints) && o.curvePoints >= 2, `curvePoints must be an integer >= 2, got ${o.curvePoints}`);
  check(o.fixedThreshold === null || (Number.isFinite(o.fixedThreshold) && o.fixedThreshold >= 0), `fixedThreshold must be null or >= 0, got ${o.fixedThreshold}`);
  check(Number.isInteger(o.minThreshold) && o.minThreshold >= 1, `minThreshold must be an integer >= 1, got ${o.minThreshold}`);
  for (const k of ['minMaturePosts', 'minMemerPosts', 'memerMaxSamples', 'searchTrials', 'memerBatchSize'] as const) {
    check(Number.isInteger(o[k]) && o[k] >= 0, `${k} must be a non-negative integer, got ${o[k]}`);
  }
  check(Number.isInteger(o.threads) && o.threads >= 1, `threads must be an integer >= 1, got ${o.threads}`);
  check(o.searchSeconds === null || o.searchSeconds > 0, `searchSeconds must be null or > 0, got ${o.searchSeconds}`);
  return o;
}
