/**
 * trainPipeline(dataset, options): everything a server needs per signal, from a dataset and without a database.
 *
 *   1. FFM backbone per signal (or per signal and media type): post embeddings v_p, user embeddings v_u (k = 32;
 *      with foldBiases the bias-folded k + 2 vectors of src/ml/ffm/embeddings.ts).
 *   2. Maturity threshold M per (signal, media type) by replay on the training posts (thresholds.ts).
 *   3. Mature posts = training posts with views >= M; their FFM embeddings are the MEMER targets.
 *   4. MEMER per (signal, media type) on the mature posts, with the modalities present for the media type
 *      (memer-model.ts), exported as a standalone inference ONNX; null when there are too few mature posts.
 * `options.trainItems` restricts steps 2-4 to some posts (the evaluation passes the posts created before its split);
 * the FFM always trains on every interaction of `dataset` (pass a view with `withInteractions` to hold rows out).
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';
import { trainBackbones, type Backbone, type SearchTrial } from '../ffm/backbones.js';
import { foldedEmbeddings } from '../ffm/embeddings.js';
import { signalIndex } from '../ffm/dataset.js';
import { OnnxRuntime } from '../onnx/runtime.js';
import type { ModalitySpec } from '../memer/config.js';
import type { EpochRecord, TrainProgress } from '../memer/trainer.js';
import { featureLayout } from './features.js';
import { trainHybridBackbone } from './hybrid-backbone.js';
import { trainMemerModel, type MemerModel } from './memer-model.js';
import { pipelineOptions, type PipelineOptions } from './options.js';
import { itemMask, viewCounts } from './subset.js';
import { estimateThreshold, type SignalThreshold } from './thresholds.js';

export interface FfmReport {
  /** `signal` or `signal/mediaType`. */
  key: string;
  /** AUC of the full FFM score and of v_u . v_p on the FFM's validation rows (null without validation rows). */
  aucFull: number | null;
  aucDot: number | null;
  /** AUC of the bias-folded dot product r v_u . v_p + b_0 + b_u + b_p (aucDot's order without biases). */
  aucFolded: number | null;
  logLoss: number | null;
  /** The hyper-parameters the backbone trained with (the search's pick with ffmSearch). */
  eta: number;
  lambda: number;
  biasLambda: number;
  /** options.ffmSearch's grid with each trial's validation log loss and AUC; null without a search. */
  search: SearchTrial[] | null;
  trainRows: number;
  validRows: number;
  epochs: number;
  bestEpoch: number;
}

export interface MediaModel {
  mediaType: MediaType;
  threshold: SignalThreshold;
  /** 1 for the training posts of this media type with views >= M. */
  mature: Uint8Array;
  /** 1 for the training posts of this media type with a view (what memerPosts 'all' trains on). */
  seen: Uint8Array;
  /** The user embeddings that go with this media type's post embeddings (the signal's, unless ffmByMediaType). */
  users: Float32Array;
  /** null when there were too few mature posts or no feature for this media type (see `memerSkipped`). */
  memer: MemerModel | null;
  memerSkipped: string | null;
}

export interface SignalModel {
  signal: string;
  /** Embedding size d (the FFM's k; k + 2 with foldBiases; the hybrid's k + 1). */
  d: number;
  /** Which backbone the served vectors come from (options.backbone). */
  backbone: 'ffm' | 'hybrid';
  ffm: FfmReport[];
  /** The hybrid backbone's training report (src/ml/hybrid/train.ts info); null with the FFM. */
  hybrid: Record<string, unknown> | null;
  /** items x d: row i = v_p of item i (from its media type's backbone when ffmByMediaType; [v_p, b_p, 1] with foldBiases). */
  posts: Float32Array;
  /** Hybrid backbone: items x d, the tags-and-content part of each post's vector (hybrid-backbone.ts); null with the FFM. */
  contentPosts: Float32Array | null;
  /** 1 where the item has a view in this signal, so that its row was trained (other rows are the initial weights). */
  postMask: Uint8Array;
  /** users x d: v_u (the first backbone's when ffmByMediaType; use MediaModel.users then). */
  users: Float32Array;
  /** Views per item in this signal (freq and maturity). */
  views: Int32Array;
  media: Partial<Record<MediaType, MediaModel>>;
}

export interface PipelineResult {
  options: PipelineOptions;
  signals: SignalModel[];
  /** Modalities and used widths per media type. */
  layout: Partial<Record<MediaType, ModalitySpec[]>>;
  /** Seconds per stage, summed over signals. */
  timings: { ffm: number; maturity: number; memer: number; total: number };
}

export type PipelineEvent =
  | { stage: 'ffm'; signal: string; key: string; epoch: number; epochs: number; validLoss: number | null }
  | { stage: 'maturity'; signal: string; key: string; threshold: number; source: string }
  | { stage: 'memer'; signal: string; key: string; progress?: TrainProgress; epoch?: EpochRecord }
  | { stage: 'done'; signal: string };

const now = () => performance.now() / 1000;

function ffmReport(b: Backbone): FfmReport {
  return {
    key: b.key,
    aucFull: b.validation?.aucFull ?? null,
    aucDot: b.validation?.aucDot ?? null,
    aucFolded: b.validation?.aucFolded ?? null,
    logLoss: b.validation?.logLoss ?? null,
    eta: b.model.params.eta,
    lambda: b.model.params.lambda,
    biasLambda: b.model.params.biasLambda,
    search: b.search,
    trainRows: b.trainRows,
    validRows: b.validRows,
    epochs: b.model.history.length,
    bestEpoch: b.model.bestEpoch,
  };
}

/**
 * The user embeddings MEMER's BCE term sees: v_u scaled by the FFM's instance normalisation r = 1 / (number of fields)
 * (every field has squared norm 1, tags included), so that sigmoid(p_rec . r v_u) is the FFM's own probability for
 * p_rec = v_p and the reconstruction and recommendation terms agree on the scale of the embedding. Ranking by v_u . v_p
 * is unchanged by the scale.
 */
export function memerUsers(users: Float32Array, o: PipelineOptions): Float32Array {
  if (o.ffm.normalize === false) return users;
  const r = 1 / (2 + new Set(o.contextFields).size);
  return users.map((x) => x * r);
}

/**
 * What MEMER of (signal, media type) trains on, shared by the pipeline and the evaluation's ablation models: the posts
 * (memerPosts 'all': every seen training post, the early ones with no target; 'mature': views >= M), the user vectors
 * its BCE term sees (the FFM's scaled by memerUsers; the hybrid's as served) and the linear prior's target.
 */
export function memerInput(sig: SignalModel, media: MediaModel, o: PipelineOptions): { items: Int32Array; mature: Uint8Array | null; users: Float32Array; contentPosts: Float32Array | null } {
  const all = o.memerPosts === 'all';
  const from = all ? media.seen : media.mature;
  const items: number[] = [];
  for (let i = 0; i < from.length; i++) if (from[i]) items.push(i);
  return { items: Int32Array.from(items), mature: all ? media.mature : null, users: sig.backbone === 'hybrid' ? media.users : memerUsers(media.users, o), contentPosts: sig.contentPosts };
}

export async function trainPipeline(dataset: Dataset, options: Partial<PipelineOptions> = {}, onProgress?: (e: PipelineEvent) => void): Promise<PipelineResult> {
  const o = pipelineOptions(options);
  const t0 = now();
  const timings = { ffm: 0, maturity: 0, memer: 0, total: 0 };
  const signals = o.signals ?? dataset.signals;
  for (const s of signals) signalIndex(dataset, s);
  const layout: Partial<Record<MediaType, ModalitySpec[]>> = {};
  for (const m of MEDIA_TYPES) layout[m] = featureLayout(dataset, m, o.modalities);
  const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: o.threads });
  const out: SignalModel[] = [];
  try {
    for (const signal of signals) {
      const s = signalIndex(dataset, signal);
      const views = viewCounts(dataset, s);
      let t = now();
      const backbones = await trainBackbones(dataset, {
        signals: [signal],
        byMediaType: o.ffmByMediaType,
        contextFields: o.contextFields,
        negatives: o.negatives,
        params: { ...o.ffm, seed: o.seed },
        validationFraction: o.ffmValidationFraction,
        search: o.ffmSearch,
        onEpoch: (key, r) => onProgress?.({ stage: 'ffm', signal, key, epoch: r.epoch, epochs: o.ffm.epochs ?? 15, validLoss: r.validLoss }),
      });
      timings.ffm += now() - t;
      // The served vectors: v_p, v_u (d = k), or the bias-folded ones (d = k + 2) with foldBiases.
      const hybrid = o.backbone === 'hybrid' ? trainHybridBackbone(dataset, s, { seed: o.seed, ...o.hybrid }) : null;
      const served = hybrid ? [{ k: hybrid.d, posts: hybrid.posts, users: hybrid.users }] : backbones.map((b) => (o.foldBiases ? foldedEmbeddings(b.model) : b.embeddings));
      const d = hybrid ? hybrid.d : o.foldBiases ? served[0].k + 2 : served[0].k;
      const posts = new Float32Array(dataset.items.ids.length * d);
      const usersOf = new Map<MediaType | null, Float32Array>();
      backbones.forEach((b, bi) => {
        usersOf.set(b.mediaType, served[bi].users);
        const mask = b.mediaType === null ? null : itemMask(dataset, b.mediaType);
        for (let i = 0; i < dataset.items.ids.length; i++) if (!mask || mask[i]) posts.set(served[bi].posts.subarray(i * d, (i + 1) * d), i * d);
      });
      const postMask = Uint8Array.from(views, (v) => (v > 0 ? 1 : 0));
      const model: SignalModel = { signal, d, backbone: o.backbone, ffm: backbones.map(ffmReport), hybrid: hybrid?.info ?? null, posts, contentPosts: hybrid?.content ?? null, postMask, users: served[0].users, views, media: {} };
      for (const mediaType of MEDIA_TYPES) {
        const users = usersOf.get(o.ffmByMediaType ? mediaType : null);
        if (!users) continue;
        t = now();
        // The replay uses the backbone's hyper-parameters, the search's pick included.
        const bp = (backbones.find((b) => b.mediaType === (o.ffmByMediaType ? mediaType : null)) ?? backbones[0]).model.params;
        // The hybrid's curve is measured on the served vectors themselves; the FFM's by replay.
        const servedVectors = hybrid ? { d, users: hybrid.users, posts: hybrid.posts, start: hybrid.content } : undefined;
        const threshold = estimateThreshold(dataset, signal, mediaType, o.ffmSearch ? { ...o, ffm: { ...o.ffm, eta: bp.eta, lambda: bp.lambda, biasLambda: bp.biasLambda } } : o, servedVectors);
        timings.maturity += now() - t;
        if (!threshold) continue;
        onProgress?.({ stage: 'maturity', signal, key: threshold.key, threshold: threshold.threshold, source: threshold.source });
        const mature = itemMask(dataset, mediaType, o.trainItems);
        const seen = Uint8Array.from(mature, (m, i) => (m && views[i] > 0 ? 1 : 0));
        for (let i = 0; i < mature.length; i++) mature[i] = seen[i] && views[i] >= threshold.threshold ? 1 : 0;
        const specs = layout[mediaType] ?? [];
        const media: MediaModel = { mediaType, threshold, mature, seen, users, memer: null, memerSkipped: null };
        const input = memerInput(model, media, o);
        const { items } = input;
        model.media[mediaType] = media;
        if (specs.length === 0) media.memerSkipped = `no content features for ${mediaType} posts`;
        else if (items.length < o.minMemerPosts) media.memerSkipped = `${items.length} ${o.memerPosts === 'all' ? 'training' : 'mature'} posts (< minMemerPosts ${o.minMemerPosts})`;
        if (media.memerSkipped) continue;
        t = now();
        media.memer = await trainMemerModel({
          ds: dataset, signal, mediaType, ...input, views, modalities: specs, posts, d, options: o, runtime,
          onProgress: (p) => onProgress?.({ stage: 'memer', signal, key: threshold.key, progress: p }),
          onEpoch: (r) => onProgress?.({ stage: 'memer', signal, key: threshold.key, epoch: r }),
        });
        timings.memer += now() - t;
      }
      out.push(model);
      onProgress?.({ stage: 'done', signal });
    }
  } finally {
    await runtime.dispose();
  }
  timings.total = now() - t0;
  return { options: o, signals: out, layout, timings };
}

