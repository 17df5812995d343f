/**
 * One MEMER model for a (signal, media type): training data from the mature training posts, training (or a random
 * search), and the standalone inference ONNX with its metadata.
 *
 * Glossary
 *   mature posts   training posts of the media type with views >= M (the paper's "old items")
 *   v_i            the FFM post embedding of mature post i (the target of the reconstruction term, eq. 7)
 *   v_u            the FFM user embedding (eq. 8)
 *   freq_i         log(1 + views_i) / log(1 + freqScale), clipped to [0, 1]; freqScale = the most views of a
 *                  training post, recorded with the model so that serving computes the same value
 *   samples        (user, post, label) of the signal's training interactions of the mature posts; signals logged as
 *                  positives only get sampled negatives (same user, another mature post, by popularity), as the FFM
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { fieldIndex, type FfmData } from '../ffm/data.js';
import { buildSignalRows } from '../ffm/dataset.js';
import { DEFAULT_ADAM } from '../graph/optimizer.js';
import { DEFAULT_ARCHITECTURE, memerConfig, type ModalitySpec } from '../memer/config.js';
import type { MemerTrainingData } from '../memer/data.js';
import { fitPrior, priorVector, type ItemTags, type LinearPrior } from '../memer/prior.js';
import { exportInferenceModel, readMemerInfo, type MemerModelInfo } from '../memer/export.js';
import { DEFAULT_SEARCH_SPACE, randomSearch, type TrialRecord } from '../memer/search.js';
import { trainMemer, type EpochRecord, type TrainProgress, type TrainingResult } from '../memer/trainer.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import { Rng } from '../../lib/random.js';
import { gatherItemFeatures, postTagNames } from './features.js';
import type { PipelineOptions } from './options.js';
import { reducedContent, type ReducedContent } from './content-pca.js';
import { fitRidge, ridgeAffine, ridgeEmbeddings } from './ridge.js';
import { constantUserDims, embedPosts, offsetShifts, type OffsetCalibration } from './calibration.js';
import { MemerEmbedder } from '../memer/inference.js';

/** Principal components per modality the linear prior regresses from. */
const PRIOR_COMPONENTS = 32;
import { interactionsOfItems, itemMask } from './subset.js';

export interface MemerModelMetrics {
  /** Validation AUC of S = p_rec . v_u on held-out mature posts (the trainer's item-level split), best epoch. */
  validationAuc: number | null;
  /** The same samples' GAUC (per-user AUC weighted by samples, as the evaluation's GAUC), best epoch. */
  validationGauc: number | null;
  /** AUC and GAUC of the best epoch with the validation posts fed freq 0 (what a cold post is fed). */
  validationZeroFreqAuc: number | null;
  validationZeroFreqGauc: number | null;
  /** The freq the validation metrics above were computed at (training.validationFreq). */
  validationFreq: 'observed' | 'zero';
  /** Prior of a residual model (architecture.prior), with its vocabulary size; null: none. bestEpoch 0 = the prior. */
  prior: { kind: string; tags: number; posts: number } | null;
  /** Validation AUC and GAUC of the prior alone (epoch 0; freq plays no part in it); null without a prior. */
  priorValidationAuc: number | null;
  priorValidationGauc: number | null;
  bestEpoch: number;
  epochs: number;
  trainSamples: number;
  validationSamples: number;
  /** Posts the model trained on (validation posts included), and how many of them had a mature target. */
  posts: number;
  maturePosts: number;
  batchSize: number;
  /** The offset calibration applied to the output (options.calibrateOffsets; calibration.ts); null: none. */
  calibration: OffsetCalibration | null;
  seconds: number;
}

export interface MemerModel {
  /** The exported inference model (inputs: one per modality, presence, freq; output: embedding). */
  onnx: Uint8Array;
  info: MemerModelInfo;
  modalities: ModalitySpec[];
  /** freq = log(1 + views) / log(1 + freqScale), clipped to [0, 1]. */
  freqScale: number;
  metrics: MemerModelMetrics;
  /** Random-search trials (empty when trained once). */
  trials: TrialRecord[];
}

export interface MemerModelInput {
  /** The training part of the log (interactions of this signal among `items` give the samples). */
  ds: Dataset;
  signal: string;
  mediaType: MediaType;
  /** The posts MEMER trains on (global item indices): the mature ones, or every seen training post with `mature`. */
  items: Int32Array;
  /** Per global item, 1 when mature: the other `items` train without a target (targetWeight 0); null = all mature. */
  mature?: Uint8Array | null;
  /** Views per item in this signal (freq). */
  views: Int32Array;
  /** Modalities and used widths. */
  modalities: readonly ModalitySpec[];
  /** FFM post embeddings (items x d) and user embeddings (users x d). */
  posts: Float32Array;
  users: Float32Array;
  /** The backbone's content-only post vectors (items x d; the hybrid's), the linear prior's target; null: `posts`. */
  contentPosts?: Float32Array | null;
  d: number;
  options: PipelineOptions;
  runtime: OnnxRuntime;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (r: EpochRecord) => void;
}

/** freq of a post with `views` views for a model with this freqScale. */
export function normalisedFreq(views: number, freqScale: number): number {
  if (!(freqScale > 0)) return 0;
  return Math.min(1, Math.max(0, Math.log1p(views) / Math.log1p(freqScale)));
}

/** (user, post) local indices of every row (fields named user and post). */
export function rowPairs(data: FfmData): { user: Int32Array; post: Int32Array } {
  const uf = fieldIndex(data.space, 'user');
  const pf = fieldIndex(data.space, 'post');
  const user = new Int32Array(data.rows).fill(-1);
  const post = new Int32Array(data.rows).fill(-1);
  for (let i = 0; i < data.rows; i++) {
    for (let a = data.offsets[i]; a < data.offsets[i + 1]; a++) {
      if (data.fields[a] === uf) user[i] = data.features[a] - data.space.offsets[uf];
      else if (data.fields[a] === pf) post[i] = data.features[a] - data.space.offsets[pf];
    }
  }
  return { user, post };
}

export function buildMemerData(input: MemerModelInput): { data: MemerTrainingData; freqScale: number } {
  const { ds, items, d, options: o } = input;
  const local = new Int32Array(ds.items.ids.length).fill(-1);
  const keep = new Uint8Array(ds.items.ids.length);
  items.forEach((item, k) => ((local[item] = k), (keep[item] = 1)));
  const s = ds.signals.indexOf(input.signal);
  const all = interactionsOfItems(ds, keep);
  let n = 0;
  for (const i of all) if (ds.interactions.signal[i] === s) all[n++] = i;
  const rows = buildSignalRows(ds, { signal: input.signal, mediaType: input.mediaType, interactions: all.slice(0, n), negatives: o.negatives, seed: o.seed + 17, order: 'given' });
  const pairs = rowPairs(rows.data);
  let order = Int32Array.from({ length: rows.data.rows }, (_, i) => i);
  if (order.length > o.memerMaxSamples) order = new Rng(o.seed + 23).shuffle(order).slice(0, o.memerMaxSamples).sort();
  const sItem = new Int32Array(order.length);
  const sUser = new Int32Array(order.length);
  const sLabel = new Uint8Array(order.length);
  order.forEach((r, k) => {
    sItem[k] = local[pairs.post[r]];
    sUser[k] = pairs.user[r];
    sLabel[k] = rows.data.labels[r];
  });
  const { features, presence } = gatherItemFeatures(ds, items, input.modalities);
  const embeddings = new Float32Array(items.length * d);
  let freqScale = 0;
  items.forEach((item, k) => {
    embeddings.set(input.posts.subarray(item * d, (item + 1) * d), k * d);
    freqScale = Math.max(freqScale, input.views[item]);
  });
  const freq = Float32Array.from(items, (item) => normalisedFreq(input.views[item], freqScale));
  const mature = input.mature;
  const targetWeight = mature ? Float32Array.from(items, (item) => mature[item]) : undefined;
  return {
    freqScale,
    data: {
      items: { count: items.length, features, presence, embeddings, freq, tags: itemTags(ds, items), ...(targetWeight ? { targetWeight } : {}) },
      userEmbeddings: input.users,
      samples: { length: order.length, item: sItem, user: sUser, label: sLabel },
      fitLinearPrior: (local) => linearPriorOf(input, local),
    },
  };
}

/** The tags of `items` (row k = items[k]) over the dataset's tag vocabulary, for a tag-average prior. */
export function itemTags(ds: Dataset, items: Int32Array): ItemTags {
  const { tagOffsets, tagIds, tagNames } = ds.items;
  const offsets = new Int32Array(items.length + 1);
  items.forEach((item, k) => (offsets[k + 1] = offsets[k] + tagOffsets[item + 1] - tagOffsets[item]));
  const ids = new Int32Array(offsets[items.length]);
  items.forEach((item, k) => ids.set(tagIds.subarray(tagOffsets[item], tagOffsets[item + 1]), offsets[k]));
  return { names: tagNames, offsets, ids };
}

/** Trains (or searches) and exports one MEMER model. */
export async function trainMemerModel(input: MemerModelInput): Promise<MemerModel> {
  const t0 = performance.now();
  const o = input.options;
  const { data, freqScale } = buildMemerData(input);
  const batchSize = o.memerBatchSize || Math.min(16384, Math.max(256, Math.round(data.samples.length / 16)));
  const config = memerConfig({
    architecture: { ...o.memer.architecture, modalities: input.modalities, embeddingDim: input.d },
    loss: o.memer.loss,
    training: { threads: o.threads, seed: o.seed, ...o.memer.training, adam: { ...DEFAULT_ADAM, ...o.memer.training?.adam }, batchSize },
  });
  const callbacks = { runtime: input.runtime, onProgress: input.onProgress, onEpoch: input.onEpoch };
  let trained: TrainingResult;
  let trials: TrialRecord[] = [];
  if (o.searchTrials > 1) {
    const budget = { trials: o.searchTrials, seconds: o.searchSeconds ?? undefined };
    const r = await randomSearch(data, config, o.searchSpace ?? DEFAULT_SEARCH_SPACE, budget, callbacks);
    trained = r.best;
    trials = r.trials;
  } else {
    trained = await trainMemer(data, config, callbacks);
  }
  const fin = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
  const b = trained.best;
  const metrics: MemerModelMetrics = {
    validationAuc: fin(b?.auc),
    validationGauc: fin(b?.gauc),
    validationZeroFreqAuc: fin(b?.freq === 'zero' ? b.auc : b?.zeroFreq?.auc),
    validationZeroFreqGauc: fin(b?.freq === 'zero' ? b.gauc : b?.zeroFreq?.gauc),
    validationFreq: b?.freq ?? config.training.validationFreq,
    prior: trained.prior ? { kind: trained.prior.kind, tags: trained.prior.tags.length, posts: trained.prior.posts } : null,
    priorValidationAuc: fin(trained.prior ? trained.history.find((e) => e.epoch === 0)?.validation?.auc : undefined),
    priorValidationGauc: fin(trained.prior ? trained.history.find((e) => e.epoch === 0)?.validation?.gauc : undefined),
    bestEpoch: trained.bestEpoch,
    epochs: trained.history.filter((e) => e.epoch > 0).length,
    trainSamples: trained.trainSamples,
    validationSamples: trained.validationSamples,
    posts: input.items.length,
    maturePosts: input.mature ? input.items.reduce((n, i) => n + input.mature![i], 0) : input.items.length,
    batchSize,
    calibration: null,
    seconds: 0,
  };
  const version = `${o.version}-${input.signal}-${input.mediaType}-${input.modalities.map((m) => m.modality).join('+')}`;
  if (o.calibrateOffsets) metrics.calibration = await calibrateOffsets(input, trained, version);
  const onnx = exportInferenceModel(trained, { signal: input.signal, mediaType: input.mediaType, version, metrics: { ...metrics, freqScale } });
  metrics.seconds = (performance.now() - t0) / 1000;
  return { onnx, info: readMemerInfo(onnx), modalities: [...input.modalities], freqScale, metrics, trials };
}

/**
 * Calibrates `trained` in place (calibration.ts): its output bias gets the shift that brings its mean embedding at
 * freq 0 over the posts it trained on, in the dimensions every user holds constant, to the backbone's mean there.
 */
async function calibrateOffsets(input: MemerModelInput, trained: TrainingResult, version: string): Promise<OffsetCalibration | null> {
  const dims = constantUserDims(input.users, input.d);
  if (dims.length === 0) return null;
  const key = `${version}#calibration`;
  const embedder = await MemerEmbedder.load(input.runtime, key, exportInferenceModel(trained, { signal: input.signal, mediaType: input.mediaType, version: key }));
  let embedded: Float32Array;
  try {
    embedded = await embedPosts(input.ds, embedder, input.modalities, input.items, () => 0);
  } finally {
    await input.runtime.unload(key);
  }
  const content = !!input.contentPosts;
  const { shift, reference } = offsetShifts(embedded, input.items, input.contentPosts ?? input.posts, content ? null : input.mature ?? null, dims, input.d);
  const bias = Float32Array.from(trained.weights.get('dec1.out.b')!);
  dims.forEach((j, k) => (bias[j] += shift[k]));
  trained.weights.set('dec1.out.b', bias);
  return { dims, shift, reference, referenceOf: content ? 'backbone-content' : 'mature', posts: input.items.length };
}

/**
 * The principal directions depend on the features only, so one reduction per dataset, media type and modalities
 * serves every signal's model and both of the trainer's prior fits (its training split, then all posts): fitted on
 * the posts of the media type that have an interaction in the training log (never a held-out post, which has none).
 */
const reductions = new WeakMap<Dataset, Map<string, ReducedContent>>();

function sharedReduction(input: MemerModelInput): ReducedContent {
  const { ds, mediaType, modalities, options } = input;
  let byKey = reductions.get(ds);
  if (!byKey) reductions.set(ds, (byKey = new Map()));
  const key = `${mediaType}|${modalities.map((m) => `${m.modality}:${m.dim}`).join(',')}|${options.seed}`;
  let r = byKey.get(key);
  if (!r) {
    const seen = new Uint8Array(ds.items.ids.length);
    for (let i = 0; i < ds.interactions.length; i++) seen[ds.interactions.item[i]] = 1;
    r = reducedContent(ds, modalities, itemMask(ds, mediaType, seen), PRIOR_COMPONENTS, options.seed + 31);
    byKey.set(key, r);
  }
  return r;
}

/**
 * MEMER's linear prior on the mature posts `local` (indices into input.items): a ridge regression of their content
 * (ridge.ts, λ chosen on a split of those posts) onto the backbone's content-only vectors when it has them (the hybrid:
 * the prior is then what the backbone itself would give a cold post), else onto the mature embeddings (RIDGE).
 */
function linearPriorOf(input: MemerModelInput, local: Int32Array): LinearPrior {
  const from = new Uint8Array(input.ds.items.ids.length);
  // The content-only vectors are known for every post; mature embeddings only for the mature ones.
  for (const k of local) if (input.contentPosts || !input.mature || input.mature[input.items[k]]) from[input.items[k]] = 1;
  const target = input.contentPosts ?? input.posts;
  // On the top principal components of each modality (content-pca.ts): the same map class the hybrid's content
  // vectors live in, at a fraction of the cost of a ridge on thousands of raw columns.
  const reduced = sharedReduction(input);
  const fit = fitRidge(reduced.ds, target, input.d, from, reduced.specs, { seed: input.options.seed + 29 });
  const a = reduced.compose(ridgeAffine(fit, input.d), input.d);
  const maxTags = input.options.memer.architecture?.priorMaxTags ?? DEFAULT_ARCHITECTURE.priorMaxTags;
  const tags = input.options.priorTags && maxTags > 0 ? residualTagRows(input, target, ridgeEmbeddings(reduced.ds, fit, reduced.specs, input.d, Int32Array.from(local, (k) => input.items[k])), from, maxTags) : null;
  return {
    modalities: input.modalities.map((m) => m.modality),
    weights: a.weights,
    presence: a.presence,
    bias: a.bias,
    ...(tags ? { tags } : {}),
    info: {
      target: input.contentPosts ? 'backbone-content' : 'mature', components: reduced.specs, lambda: fit.lambda, validationMse: fit.validationMse, posts: fit.trainPosts,
      ...(tags ? { tags: tags.names.length, tagSmoothing: tags.smoothing, tagValidationMse: tags.validationMse } : {}),
    },
  };
}

/** Pseudo-counts tried for the tag rows (shrinking a tag's mean residual toward the overall one). */
const TAG_SMOOTHING = [0, 1, 3, 10, 30, 100];

/**
 * The tag part of a linear prior: what the content map leaves unexplained (target - prediction on the posts `from`),
 * averaged per tag as TAG_AVG averages vectors (prior.ts fitPrior, the `maxTags` most frequent tags), with the
 * pseudo-count chosen on a seeded fifth of those posts (lowest squared error of the residual there), then refitted on
 * all of them. Why: tags carry what a post's features may not (a genre, a creator's topic); the backbone's own
 * content-only vectors include its tag embeddings. null when no post of `from` has a tag.
 */
function residualTagRows(input: MemerModelInput, target: Float32Array, predicted: Float32Array, from: Uint8Array, maxTags: number): (NonNullable<LinearPrior['tags']> & { validationMse: number }) | null {
  const { ds, d } = input;
  const posts: number[] = [];
  for (let i = 0; i < from.length; i++) if (from[i]) posts.push(i);
  if (!posts.some((i) => ds.items.tagOffsets[i + 1] > ds.items.tagOffsets[i])) return null;
  const residual = new Float32Array(ds.items.ids.length * d);
  for (const i of posts) for (let j = 0; j < d; j++) residual[i * d + j] = target[i * d + j] - predicted[i * d + j];
  const all: ItemTags = { names: ds.items.tagNames, offsets: ds.items.tagOffsets, ids: ds.items.tagIds };
  const order = new Rng(input.options.seed + 37).shuffle(Int32Array.from(posts));
  const held = order.subarray(0, Math.max(1, Math.round(order.length / 5)));
  const kept = order.subarray(held.length);
  let best = { smoothing: 0, mse: Infinity };
  for (const smoothing of kept.length ? TAG_SMOOTHING : [0]) {
    const prior = fitPrior('tag-average', residual, d, kept, all, { maxTags, smoothing });
    let se = 0;
    for (const i of held) {
      const v = priorVector(prior, postTagNames(ds, i));
      for (let j = 0; j < d; j++) se += (residual[i * d + j] - v[j]) ** 2;
    }
    const mse = se / held.length;
    if (mse < best.mse) best = { smoothing, mse };
  }
  const prior = fitPrior('tag-average', residual, d, Int32Array.from(posts), all, { maxTags, smoothing: best.smoothing });
  return { names: prior.tags, rows: prior.table, counts: prior.counts, smoothing: best.smoothing, validationMse: best.mse };
}
