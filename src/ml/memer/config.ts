/**
 * MEMER hyper-parameters (paper section 2.1.3 and 3.1.4), typed and frozen, each with its default.
 *
 * Glossary
 *   d      embedding size of the backbone (FFM) item and user embeddings (paper: 32)
 *   F      size of the semantic feature feat_i (eq. 5)
 *   H_e    hidden width of enc1 / enc2;   L  latent size (mean and log-variance heads, as CVAR [19])
 *   H_d    hidden width of dec1
 *   alpha, beta, gamma   loss weights of eq. 11
 */
import type { MediaType, Modality } from '../../datasets/types.js';
import { DEFAULT_ADAM, type AdamConfig } from '../graph/optimizer.js';

export interface ModalitySpec {
  readonly modality: Modality;
  readonly dim: number;
}

/** Feature dims used in the paper (section 2.2). Aux dims are the user's choice. */
export const PAPER_DIMS = Object.freeze({
  videoVisual: 2048, // ResNeXt3D-101, pooled over seconds
  imageVisual: 2208, // DenseNet161 penultimate layer
  audio: 128, // VGGish
  text: 100, // FastText on text read from frames
});

/** The paper's modality sets per media type (Table 2's best rows), plus `auxDim` auxiliary features when > 0. */
export function paperModalities(media: MediaType, auxDim = 0): ModalitySpec[] {
  const specs: ModalitySpec[] =
    media === 'video'
      ? [{ modality: 'visual', dim: PAPER_DIMS.videoVisual }, { modality: 'audio', dim: PAPER_DIMS.audio }, { modality: 'text', dim: PAPER_DIMS.text }]
      : [{ modality: 'visual', dim: PAPER_DIMS.imageVisual }, { modality: 'text', dim: PAPER_DIMS.text }];
  if (auxDim > 0) specs.push({ modality: 'aux', dim: auxDim });
  return specs;
}

export interface MemerArchitecture {
  /** modalities in fusion order, with their input dims; any non-empty subset of visual/audio/text/aux */
  readonly modalities: readonly ModalitySpec[];
  /** d: backbone embedding size, also the output size (paper: 32) */
  readonly embeddingDim: number;
  /** F: width of the semantic module output feat_i */
  readonly semanticDim: number;
  /** H_e: hidden width of each encoder */
  readonly encoderHidden: number;
  /** L: latent size of the encoders' mean / log-variance heads */
  readonly latentDim: number;
  /** H_d: hidden width of the decoder */
  readonly decoderHidden: number;
  /** sample z = mu + sigma * eps during training (CVAR's reparameterisation); false uses z = mu */
  readonly sampleLatent: boolean;
  /** initial bias of the log-variance heads (-6: sigma ~ 0.05, so early training is not drowned in noise) */
  readonly initialLogVar: number;
  /**
   * Residual on a prior (prior.ts): every decoder output is prior(post) + dec(z, freq). 'none': the paper's model.
   * 'global-average': prior = the mean mature embedding of the training posts (a constant). 'tag-average': the mean of
   * the post's tags' averages over the training posts (TAG_AVG), the global average for a post with no known tag or a
   * dataset without tags; the post's tags are an input of the exported model. 'linear': an affine map of the content
   * features fitted by ridge regression on the training posts (given with the data, MemerTrainingData.priorLinear:
   * the pipeline fits it to the backbone's content-only vectors, or to the mature embeddings, src/ml/pipeline/ridge.ts). With a prior, the decoder's output layer
   * starts at 0 by default (residualInit: training starts at the prior), and the prior itself is scored as epoch 0
   * (kept if no epoch beats it).
   */
  readonly prior: PriorKind;
  /** tag-average prior: at most this many tags (the most frequent among the training posts) get their own average */
  readonly priorMaxTags: number;
  /** tag-average prior: pseudo-count k shrinking each tag's average to the global one, (sum_t + k global) / (n_t + k) */
  readonly priorSmoothing: number;
  /**
   * with a prior: after training, refit the prior on every item (the validation posts too), as the averages baselines
   * do, for the returned graph and the export (the weights are kept; the validation metrics are those of the prior of
   * the training split). false: the exported prior is the one trained with.
   */
  readonly priorRefit: boolean;
  /**
   * with a prior: the decoder's output layer starts at this times its Glorot draw (0: training starts at the prior;
   * epoch 0 is the prior whatever this is)
   */
  readonly residualInit: number;
}

export type PriorKind = 'none' | 'global-average' | 'tag-average' | 'linear';
export const PRIOR_KINDS: readonly PriorKind[] = ['none', 'global-average', 'tag-average', 'linear'];

export const DEFAULT_ARCHITECTURE: MemerArchitecture = Object.freeze({
  modalities: Object.freeze(paperModalities('video')),
  embeddingDim: 32,
  semanticDim: 64,
  encoderHidden: 64,
  latentDim: 16,
  decoderHidden: 64,
  sampleLatent: true,
  initialLogVar: -6,
  prior: 'none',
  priorMaxTags: 4096,
  priorSmoothing: 0,
  residualInit: 0,
  priorRefit: true,
});

export interface LossWeights {
  /** alpha: weight of the Wasserstein term L_w(enc1, enc2) (eq. 6) */
  readonly alpha: number;
  /** beta: weight of the reconstruction term, sum_j (p_recon_j - v_j)^2 (eq. 7) */
  readonly beta: number;
  /** gamma: weight of the recommendation term L_rec */
  readonly gamma: number;
  /**
   * L_rec: 'bce' (eq. 8-10, the paper) or 'softmax' (beyond the paper: in-batch softmax, each positive's post ranked
   * against every post of the batch for its user; a ranking loss, with batches of at most softmaxBatch samples)
   */
  readonly recommendation: 'bce' | 'softmax';
}

export const DEFAULT_LOSS_WEIGHTS: LossWeights = Object.freeze({ alpha: 1, beta: 1, gamma: 1, recommendation: 'bce' as const });

/** Largest batch with loss.recommendation 'softmax' (its score matrix is batch x batch). */
export const SOFTMAX_BATCH = 2048;

export type FreqMode = 'observed' | 'uniform' | 'zero';
export const FREQ_MODES: readonly FreqMode[] = ['observed', 'uniform', 'zero'];

export interface TrainingConfig {
  /** mini-batch size (paper: 16384) */
  readonly batchSize: number;
  /** most epochs */
  readonly maxEpochs: number;
  /** stop after this many epochs without a better validation score; the best epoch's weights are kept */
  readonly patience: number;
  /** fraction of items (and their interactions) held out for validation */
  readonly validationFraction: number;
  /**
   * validation metric for early stopping and model selection: AUC of score = p_rec . v_user over all validation samples,
   * GAUC (per-user AUC weighted by the user's samples, as the evaluation reports) (higher is better), or the weighted loss
   */
  readonly monitor: 'auc' | 'gauc' | 'loss';
  /**
   * freq fed to validation posts: 'observed' (their own, as in training) or 'zero' (what the evaluation feeds a cold
   * post, coldFreq 'zero'). With 'observed', the metrics at freq 0 are reported beside them (ValidationMetrics.zeroFreq).
   */
  readonly validationFreq: 'observed' | 'zero';
  /**
   * freq fed in training: 'observed' (the post's own, paper), 'uniform' (drawn per sample in [0, the post's own freq]:
   * every count the post passed on its way to maturity, so the decoder sees the whole range down to the cold posts'
   * 0 instead of extrapolating there), or 'zero' (freq unused, as the evaluation feeds it; validation then feeds 0 too).
   */
  readonly freq: FreqMode;
  /**
   * Input dropout on the content features (training only): each normalised feature x~_j of a present modality is set
   * to 0 (its training mean) with this probability and the kept ones scaled by 1/(1 - rate) (inverted dropout).
   */
  readonly inputDropout: number;
  /** Modality dropout (training only): each present modality of a sample is dropped (fed as missing) with this probability. */
  readonly modalityDropout: number;
  /** seed for initialisation, splitting, shuffling and noise */
  readonly seed: number;
  /** Adam (paper: lr 0.001) */
  readonly adam: AdamConfig;
  /** onnxruntime intra-op threads for training (stack notes: 2 threads ~ 1.7x one) */
  readonly threads: number;
}

export const DEFAULT_TRAINING: TrainingConfig = Object.freeze({
  batchSize: 16384,
  maxEpochs: 30,
  patience: 3,
  validationFraction: 0.1,
  monitor: 'auc',
  validationFreq: 'observed',
  freq: 'observed',
  inputDropout: 0,
  modalityDropout: 0,
  seed: 1,
  adam: DEFAULT_ADAM,
  threads: 2,
});

export interface MemerConfig {
  readonly architecture: MemerArchitecture;
  readonly loss: LossWeights;
  readonly training: TrainingConfig;
}

/** Merge partial overrides onto the defaults and validate; the result is frozen. */
export function memerConfig(over: {
  architecture?: Partial<MemerArchitecture>;
  loss?: Partial<LossWeights>;
  training?: Partial<TrainingConfig>;
} = {}): MemerConfig {
  const architecture = Object.freeze({ ...DEFAULT_ARCHITECTURE, ...over.architecture });
  const loss = Object.freeze({ ...DEFAULT_LOSS_WEIGHTS, ...over.loss });
  const training = Object.freeze({ ...DEFAULT_TRAINING, ...over.training, adam: Object.freeze({ ...DEFAULT_ADAM, ...over.training?.adam }) });
  const mods = architecture.modalities;
  if (mods.length === 0) throw new Error('MEMER needs at least one modality');
  if (new Set(mods.map((m) => m.modality)).size !== mods.length) throw new Error('a modality is listed twice');
  for (const m of mods) if (!(m.dim > 0 && Number.isInteger(m.dim))) throw new Error(`modality ${m.modality}: bad dim ${m.dim}`);
  for (const k of ['embeddingDim', 'semanticDim', 'encoderHidden', 'latentDim', 'decoderHidden'] as const) {
    if (!(architecture[k] > 0 && Number.isInteger(architecture[k]))) throw new Error(`${k} must be a positive integer`);
  }
  for (const k of ['alpha', 'beta', 'gamma'] as const) if (!(loss[k] >= 0)) throw new Error(`${k} must be >= 0`);
  if (loss.recommendation !== 'bce' && loss.recommendation !== 'softmax') throw new Error(`recommendation must be bce or softmax, got ${loss.recommendation}`);
  if (!(training.batchSize > 0) || !(training.validationFraction >= 0 && training.validationFraction < 1)) throw new Error('bad training config');
  if (!PRIOR_KINDS.includes(architecture.prior)) throw new Error(`prior must be one of ${PRIOR_KINDS.join(', ')}, got ${architecture.prior}`);
  if (!(Number.isInteger(architecture.priorMaxTags) && architecture.priorMaxTags >= 0)) throw new Error(`priorMaxTags must be a non-negative integer, got ${architecture.priorMaxTags}`);
  if (!(architecture.residualInit >= 0)) throw new Error(`residualInit must be >= 0, got ${architecture.residualInit}`);
  if (!(architecture.priorSmoothing >= 0)) throw new Error(`priorSmoothing must be >= 0, got ${architecture.priorSmoothing}`);
  if (!FREQ_MODES.includes(training.freq)) throw new Error(`freq must be one of ${FREQ_MODES.join(', ')}, got ${training.freq}`);
  if (!['auc', 'gauc', 'loss'].includes(training.monitor)) throw new Error(`monitor must be auc, gauc or loss, got ${training.monitor}`);
  if (!['observed', 'zero'].includes(training.validationFreq)) throw new Error(`validationFreq must be observed or zero, got ${training.validationFreq}`);
  for (const k of ['inputDropout', 'modalityDropout'] as const) if (!(training[k] >= 0 && training[k] < 1)) throw new Error(`${k} must be in [0, 1), got ${training[k]}`);
  if (!(training.adam.weightDecay >= 0)) throw new Error(`weightDecay must be >= 0, got ${training.adam.weightDecay}`);
  return Object.freeze({ architecture, loss, training });
}
