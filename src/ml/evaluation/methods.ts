/**
 * The compared methods for one (signal, media type): their post embeddings for the evaluated posts, MEMER ablation
 * models (one per modality subset), and the metrics of each on the same scored rows.
 */
import type { Dataset, MediaType, Modality } from '../../datasets/types.js';
import type { ModalitySpec } from '../memer/config.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import { trainMemerModel, type MemerModel } from '../pipeline/memer-model.js';
import type { PipelineOptions } from '../pipeline/options.js';
import { memerUsers, type MediaModel, type SignalModel } from '../pipeline/train.js';
import { averages, globalAverageEmbeddings, matureEmbeddings, memerEmbeddings, randomEmbeddings, tagAverageEmbeddings } from './baselines.js';
import { bootstrapRelaImpr, metricsOf, relaImprOf, rowsByTag, scoreRows, type EvalRows } from './scoring.js';
import type { Method, ResultRow, TagGain } from './types.js';

export interface MethodEmbedding {
  method: Method;
  modalities: Modality[];
  /** items x d, rows filled for the evaluated posts. */
  embeddings: Float32Array;
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
  const items: number[] = [];
  for (let i = 0; i < media.mature.length; i++) if (media.mature[i]) items.push(i);
  const out: MemerModel[] = [];
  for (const subset of modalitySubsets(full.modalities)) {
    if (subset.length === full.modalities.length) {
      out.push(full);
      continue;
    }
    out.push(await trainMemerModel({
      ds, signal: sig.signal, mediaType: media.mediaType, items: Int32Array.from(items), views: sig.views, modalities: subset,
      posts: sig.posts, users: memerUsers(media.users, o), d: sig.d, options: o, runtime,
    }));
  }
  return out;
}

/** Every method's embeddings of `targets`; averages come from the posts in `averageFrom` (the mature training posts). */
export async function methodEmbeddings(args: {
  ds: Dataset; sig: SignalModel; targets: Int32Array; averageFrom: Uint8Array; models: MemerModel[];
  runtime: OnnxRuntime; freq: (model: MemerModel, post: number) => number; seed: number; mature: boolean;
}): Promise<{ list: MethodEmbedding[]; tagFallbacks: number }> {
  const { ds, sig, targets } = args;
  const d = sig.d;
  const avg = averages(ds, sig.posts, d, args.averageFrom);
  const tag = tagAverageEmbeddings(ds, avg, d, targets);
  const list: MethodEmbedding[] = [
    { method: 'RANDOM', modalities: [], embeddings: randomEmbeddings(ds, d, targets, args.seed) },
    { method: 'GLOBAL_AVG', modalities: [], embeddings: globalAverageEmbeddings(ds, avg, d, targets) },
    { method: 'TAG_AVG', modalities: [], embeddings: tag.embeddings },
  ];
  if (args.mature) list.push({ method: 'MATURE', modalities: [], embeddings: matureEmbeddings(ds, sig.posts, d, targets) });
  for (const m of args.models) {
    list.push({ method: 'MEMER', modalities: m.modalities.map((s) => s.modality), embeddings: await memerEmbeddings(ds, args.runtime, m, d, targets, (p) => args.freq(m, p)) });
  }
  return { list, tagFallbacks: tag.tagFallbacks };
}

/** Metrics of every method on `rows`; RelaImpr against MATURE when it is in the list. */
export function scoreMethods(ds: Dataset, signal: string, mediaType: MediaType, phase: string, rows: EvalRows, users: Float32Array, d: number, list: readonly MethodEmbedding[], topTags: number): { results: ResultRow[]; perTag: TagGain[] } {
  const scores = list.map((m) => scoreRows(rows, users, m.embeddings, d));
  const metrics = scores.map((s) => metricsOf(s, rows.label));
  const mi = list.findIndex((m) => m.method === 'MATURE');
  const aucMature = mi >= 0 ? metrics[mi].auc : null;
  // The all-modality MEMER is the last MEMER in the list: Figure 3 and the bootstrap interval are computed for it only.
  const memerAll = list.map((m) => m.method).lastIndexOf('MEMER');
  const results: ResultRow[] = list.map((m, k) => ({
    signal, mediaType, method: m.method, modalities: m.modalities, phase,
    auc: metrics[k].auc, f1: metrics[k].f1, f1Threshold: metrics[k].f1Threshold,
    relaImpr: relaImprOf(metrics[k].auc, aucMature), n: rows.length, positives: rows.positives,
    ...(k === memerAll && mi >= 0 ? { relaImprCi: bootstrapRelaImpr(scores[k], scores[mi], rows) } : {}),
  }));
  const perTag: TagGain[] = [];
  // Figure 3: per tag, the baselines, MATURE and the all-modality MEMER.
  for (const g of rowsByTag(ds, rows, topTags)) {
    const a: TagGain['auc'] = {};
    list.forEach((m, k) => {
      if (m.method === 'MEMER' && k !== memerAll) return;
      const v = metricsOf(scores[k], rows.label, g.rows).auc;
      if (Number.isFinite(v)) a[m.method] = v;
    });
    perTag.push({ signal, mediaType, tag: g.tag, n: g.rows.length, auc: a });
  }
  return { results, perTag };
}
