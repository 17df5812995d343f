/**
 * The compared methods for one (signal, media type): their post embeddings for the evaluated posts, MEMER ablation
 * models (one per modality subset), and the metrics of each on the same scored rows.
 */
import type { Dataset, MediaType, Modality } from '../../datasets/types.js';
import type { ModalitySpec } from '../memer/config.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import { trainMemerModel, type MemerModel } from '../pipeline/memer-model.js';
import type { PipelineOptions } from '../pipeline/options.js';
import { tagGauc } from './fairness.js';
import { memerInput, type MediaModel, type SignalModel } from '../pipeline/train.js';
import { trainHybridMf } from '../hybrid/index.js';
import { fitRidge, ridgeEmbeddings, type RidgeFit } from '../pipeline/ridge.js';
import { averages, globalAverageEmbeddings, matureEmbeddings, memerEmbeddings, randomEmbeddings, tagAverageEmbeddings } from './baselines.js';
import { bootstrapRelaImpr, metricsOf, relaImprOf, rowsByTag, scoreRows, type EvalRows } from './scoring.js';
import { pairedBootstrap, postsOf, verdictOf, type Comparison } from './comparisons.js';
import { gaucOf, scoreOrder } from './ranking.js';
import type { SignalThreshold } from '../pipeline/thresholds.js';
import { BASELINES, type EvaluationOptions, type Method, type ResultRow, type TagGain, type ThresholdReport } from './types.js';

export interface MethodEmbedding {
  method: Method;
  modalities: Modality[];
  /** items x d, rows filled for the evaluated posts; null for a method with its own users and biases (HYBRID_MF). */
  embeddings: Float32Array | null;
  /** Scores of rows for a method not scored as v_u . x_p. */
  scorer?: (rows: EvalRows) => Float64Array;
}

/** How scoreMethods gates and bootstraps a group. */
export interface GroupOptions {
  minRows: number;
  minPosts: number;
  resamples: number;
  seed: number;
}

export function groupOptions(eo: EvaluationOptions, seed: number): GroupOptions {
  return { minRows: eo.minRows, minPosts: eo.minPosts, resamples: eo.resamples, seed };
}

/** The maturity threshold of one group as reported (`testMaturePosts`: the evaluated posts past M, time protocol). */
export function thresholdReport(signal: string, mediaType: MediaType, th: SignalThreshold, testMaturePosts?: number): ThresholdReport {
  return {
    signal, mediaType, M: th.threshold, source: th.source, curveThreshold: th.curveThreshold, snapshotEvery: th.snapshotEvery,
    epsilon: th.epsilon, views: th.views, distance: th.distance, count: th.count, trainPosts: th.posts, maturePosts: th.maturePosts,
    ...(testMaturePosts === undefined ? {} : { testMaturePosts }),
  };
}

/** The evaluation options every protocol reports. */
export function groupParameters(eo: EvaluationOptions): Record<string, unknown> {
  return { minRows: eo.minRows, minPosts: eo.minPosts, resamples: eo.resamples, level: 0.95, strongBaselines: eo.strongBaselines, hybridLoss: eo.hybridLoss };
}

/** Ablation subsets: the base modality (visual when present), base + each other non-aux modality, and all of them. */
export function modalitySubsets(specs: readonly ModalitySpec[]): ModalitySpec[][] {
  if (specs.length === 0) return [];
  const base = specs.find((s) => s.modality === 'visual') ?? specs[0];
  const out: ModalitySpec[][] = [[base]];
  for (const s of specs) if (s !== base && s.modality !== 'aux') out.push([base, s]);
  out.push([...specs]);
  const seen = new Set<string>();
  return out.filter((sub) => {
    const key = sub.map((s) => s.modality).join('+');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** MEMER models for every ablation subset (the pipeline's all-modality model is reused, not retrained). */
export async function ablationModels(ds: Dataset, sig: SignalModel, media: MediaModel, o: PipelineOptions, runtime: OnnxRuntime, enabled: boolean): Promise<MemerModel[]> {
  const full = media.memer;
  if (!full) return [];
  if (!enabled) return [full];
  const input = memerInput(sig, media, o);
  const out: MemerModel[] = [];
  for (const subset of modalitySubsets(full.modalities)) {
    if (subset.length === full.modalities.length) {
      out.push(full);
      continue;
    }
    out.push(await trainMemerModel({
      ds, signal: sig.signal, mediaType: media.mediaType, ...input, views: sig.views, modalities: subset,
      posts: sig.posts, d: sig.d, options: o, runtime,
    }));
  }
  return out;
}

/**
 * HYBRID_MF trained on the positives among `train` (interactions of one signal): the posts it scores later and never
 * saw have no id embedding, so they are cold for it as they are for MEMER.
 */
export function hybridBaseline(ds: Dataset, train: Int32Array, loss: 'warp' | 'bpr', seed: number, modalities: readonly Modality[] | null): { method: MethodEmbedding; info: Record<string, unknown> } {
  const model = trainHybridMf(ds, train, { loss, seed, modalities });
  return { method: { method: 'HYBRID_MF', modalities: [], embeddings: null, scorer: (rows) => model.score(rows.user, rows.post) }, info: model.info };
}

/**
 * Every method's embeddings of `targets`; averages and RIDGE come from the posts in `averageFrom` (the mature training
 * posts). `ridge` names the content features RIDGE regresses from (none: no RIDGE row); `extra` (HYBRID_MF) is
 * inserted before MATURE.
 */
export async function methodEmbeddings(args: {
  ds: Dataset; sig: SignalModel; targets: Int32Array; averageFrom: Uint8Array; models: MemerModel[];
  runtime: OnnxRuntime; freq: (model: MemerModel, post: number) => number; seed: number; mature: boolean;
  ridge?: readonly ModalitySpec[]; extra?: readonly MethodEmbedding[];
}): Promise<{ list: MethodEmbedding[]; tagFallbacks: number; ridge: Omit<RidgeFit, 'weights' | 'mean' | 'scale'> | null }> {
  const { ds, sig, targets } = args;
  const d = sig.d;
  const avg = averages(ds, sig.posts, d, args.averageFrom);
  const tag = tagAverageEmbeddings(ds, avg, d, targets);
  const list: MethodEmbedding[] = [
    { method: 'RANDOM', modalities: [], embeddings: randomEmbeddings(ds, d, targets, args.seed) },
    { method: 'GLOBAL_AVG', modalities: [], embeddings: globalAverageEmbeddings(ds, avg, d, targets) },
    { method: 'TAG_AVG', modalities: [], embeddings: tag.embeddings },
  ];
  let ridge: RidgeFit | null = null;
  if (args.ridge && args.ridge.length > 0) {
    ridge = fitRidge(ds, sig.posts, d, args.averageFrom, args.ridge, { seed: args.seed });
    list.push({ method: 'RIDGE', modalities: args.ridge.map((s) => s.modality), embeddings: ridgeEmbeddings(ds, ridge, args.ridge, d, targets) });
  }
  list.push(...(args.extra ?? []));
  if (args.mature) list.push({ method: 'MATURE', modalities: [], embeddings: matureEmbeddings(ds, sig.posts, d, targets) });
  for (const m of args.models) {
    list.push({ method: 'MEMER', modalities: m.modalities.map((s) => s.modality), embeddings: await memerEmbeddings(ds, args.runtime, m, d, targets, (p) => args.freq(m, p)) });
  }
  const ridgeInfo = ridge ? (({ weights: _w, mean: _m, scale: _s, ...rest }) => rest)(ridge) : null;
  return { list, tagFallbacks: tag.tagFallbacks, ridge: ridgeInfo };
}

/**
 * Metrics of every method on `rows` (AUC, GAUC, F1; RelaImpr against MATURE when it is in the list) and the all-modality
 * MEMER's paired comparisons with every baseline present.
 */
export function scoreMethods(ds: Dataset, signal: string, mediaType: MediaType, phase: string, rows: EvalRows, users: Float32Array, d: number, list: readonly MethodEmbedding[], topTags: number, g: GroupOptions): { results: ResultRow[]; perTag: TagGain[]; comparisons: Comparison[] } {
  const scores = list.map((m) => (m.scorer ? m.scorer(rows) : scoreRows(rows, users, m.embeddings!, d)));
  const metrics = scores.map((s) => metricsOf(s, rows.label));
  const orders = scores.map((s) => scoreOrder(s, rows.label, rows.user));
  const gaucs = orders.map((o) => gaucOf(o));
  const posts = postsOf(rows);
  const insufficient = rows.length < g.minRows || posts < g.minPosts;
  const mi = list.findIndex((m) => m.method === 'MATURE');
  const aucMature = mi >= 0 ? metrics[mi].auc : null;
  // The all-modality MEMER is the last MEMER in the list: Figure 3, the RelaImpr interval and the comparisons use it only.
  const memerAll = list.map((m) => m.method).lastIndexOf('MEMER');
  const results: ResultRow[] = list.map((m, k) => ({
    signal, mediaType, method: m.method, modalities: m.modalities, phase,
    auc: metrics[k].auc, gauc: gaucs[k].gauc, users: gaucs[k].users, posts, insufficient,
    f1: metrics[k].f1, f1Threshold: metrics[k].f1Threshold,
    relaImpr: relaImprOf(metrics[k].auc, aucMature), n: rows.length, positives: rows.positives,
    ...(k === memerAll && mi >= 0 ? { relaImprCi: bootstrapRelaImpr(scores[k], scores[mi], rows) } : {}),
  }));
  const comparisons: Comparison[] = [];
  const baselines = list.map((m, k) => (BASELINES.includes(m.method) ? k : -1)).filter((k) => k >= 0);
  if (memerAll >= 0 && baselines.length > 0) {
    for (const c of pairedBootstrap(rows, orders, memerAll, baselines, { resamples: g.resamples, level: 0.95, seed: g.seed })) {
      comparisons.push({ signal, mediaType, phase, method: 'MEMER', baseline: list[c.baseline].method, metric: c.metric, diff: c.diff, ci: c.ci, verdict: verdictOf(c.ci, insufficient), insufficient });
    }
  }
  const perTag: TagGain[] = [];
  // Figure 3: per tag, the baselines, MATURE and the all-modality MEMER.
  for (const t of rowsByTag(ds, rows, topTags)) {
    const a: TagGain['auc'] = {};
    list.forEach((m, k) => {
      if (m.method === 'MEMER' && k !== memerAll) return;
      const v = metricsOf(scores[k], rows.label, t.rows).auc;
      if (Number.isFinite(v)) a[m.method] = v;
    });
    const judged = list.map((m, k) => ({ method: m.method, k })).filter(({ method, k }) => method !== 'MEMER' || k === memerAll);
    // Fewer resamples per tag than per group: the interval is for reading the spread, not a verdict on the group.
    const tagged = tagGauc(rows, t.rows, scores, judged, memerAll, list.findIndex((m) => m.method === 'TAG_AVG'), { minRows: g.minRows, minPosts: g.minPosts, resamples: Math.min(g.resamples, 200), seed: g.seed });
    perTag.push({ signal, mediaType, tag: t.tag, n: t.rows.length, auc: a, ...tagged });
  }
  return { results, perTag, comparisons };
}
