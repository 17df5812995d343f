/**
 * The cold-start literature's warm-up protocol (Meta-Embedding, Pan et al. 2019; MWUF [20]; CVAR [19]), so that
 * results compare with those papers' cold / warm-a / warm-b / warm-c columns.
 *
 * Glossary (per signal; counts are the signal's logged interactions of an item)
 *   old items     count > H: their interactions train the FFM backbone and MEMER (all old items count as mature)
 *   new items     3n < count <= H: their interactions, in time order, give warm-a (the first n), warm-b (the next
 *                 n), warm-c (the next n) and the test set (the rest); items with count <= 3n are not used
 *   cold          test AUC with each method's initial embedding of the new items
 *   warm-x        test AUC after one pass of SGD over the warm-x rows (and the earlier warm sets), updating only the
 *                 new items' embeddings: x_p <- x_p - lr (sigmoid(r v_u . x_p) - y) r v_u, users frozen; r = the FFM's
 *                 normalisation (1/2 for user and post fields)
 * Signals logged as positives only get sampled negatives in the warm and test rows (same user, another new item).
 * There is no mature reference here, so RelaImpr is null.
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';
import { OnnxRuntime } from '../onnx/runtime.js';
import { pipelineOptions } from '../pipeline/options.js';
import { pipelineSummary } from '../pipeline/progress.js';
import { interactionsOfItems, viewCounts, withInteractions } from '../pipeline/subset.js';
import { trainPipeline, type PipelineEvent } from '../pipeline/train.js';
import { featureLayout } from '../pipeline/features.js';
import type { Comparison } from './comparisons.js';
import { ablationModels, groupOptions, groupParameters, hybridBaseline, methodEmbeddings, scoreMethods, type MethodEmbedding } from './methods.js';
import { requireRows } from './errors.js';
import { evalRows, type EvalRows } from './scoring.js';
import { fairnessOf } from './fairness.js';
import { evaluationOptions, type EvaluationOptions, type EvaluationReport, type ResultRow, type TagGain, type ThresholdReport } from './types.js';

export const WARM_PHASES = ['warm-a', 'warm-b', 'warm-c'] as const;

/** One SGD pass of the rows over the post embeddings (users frozen). */
export function warmUp(rows: EvalRows, users: Float32Array, posts: Float32Array, d: number, lr: number, r: number): void {
  for (let k = 0; k < rows.length; k++) {
    const u = rows.user[k] * d;
    const p = rows.post[k] * d;
    let z = 0;
    for (let j = 0; j < d; j++) z += users[u + j] * posts[p + j];
    const g = (1 / (1 + Math.exp(-r * z)) - rows.label[k]) * r;
    for (let j = 0; j < d; j++) posts[p + j] -= lr * g * users[u + j];
  }
}

/** warm-a, warm-b, warm-c and test interaction indices of the new items of signal s (time order within each item). */
export function cvarSplit(ds: Dataset, s: number, H: number, n: number): { old: Uint8Array; isNew: Uint8Array; sets: Int32Array[] } {
  const counts = viewCounts(ds, s);
  const old = Uint8Array.from(counts, (c) => (c > H ? 1 : 0));
  const isNew = Uint8Array.from(counts, (c) => (c > 3 * n && c <= H ? 1 : 0));
  const t = ds.interactions;
  const rows = interactionsOfItems(ds, isNew).filter((i) => t.signal[i] === s);
  rows.sort((a, b) => t.time[a] - t.time[b] || a - b);
  const seen = new Int32Array(ds.items.ids.length);
  const sets: number[][] = [[], [], [], []];
  for (const i of rows) sets[Math.min(3, Math.floor(seen[t.item[i]]++ / n))].push(i);
  return { old, isNew, sets: sets.map((x) => Int32Array.from(x)) };
}

export async function evaluateCvar(ds: Dataset, options: Partial<EvaluationOptions> = {}, onProgress?: (e: PipelineEvent | { stage: 'evaluate'; key: string }) => void): Promise<EvaluationReport> {
  const eo = evaluationOptions(options);
  const t0 = performance.now();
  const base = pipelineOptions(eo.pipeline);
  const signals = base.signals ?? ds.signals;
  const results: ResultRow[] = [];
  const perTag: TagGain[] = [];
  const thresholds: Record<string, ThresholdReport> = {};
  const ffm: Record<string, unknown>[] = [];
  const memer: Record<string, unknown>[] = [];
  const comparisons: Comparison[] = [];
  const reasons: string[] = [];
  const baselines: Record<string, unknown>[] = [];
  const datasetInfo: Record<string, unknown> = { name: ds.name, items: ds.items.ids.length, users: ds.userIds.length, interactions: ds.interactions.length, signals: {} };
  const timings = { ffm: 0, memer: 0, ablation: 0, baselines: 0, scoring: 0, total: 0 };
  const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: base.threads });
  try {
    for (const signal of signals) {
      const s = ds.signals.indexOf(signal);
      if (s < 0) throw new RangeError(`unknown signal "${signal}"`);
      const split = cvarSplit(ds, s, eo.cvarH, eo.cvarN);
      const oldCount = split.old.reduce((a, b) => a + b, 0);
      const newCount = split.isNew.reduce((a, b) => a + b, 0);
      (datasetInfo.signals as Record<string, unknown>)[signal] = { oldItems: oldCount, newItems: newCount, warm: split.sets.slice(0, 3).map((x) => x.length), test: split.sets[3].length };
      if (oldCount === 0 || newCount === 0 || split.sets[3].length === 0) {
        reasons.push(`${signal}: ${oldCount} items with more than H = ${eo.cvarH} interactions (old), ${newCount} with ${3 * eo.cvarN + 1}..${eo.cvarH} (new), ${split.sets[3].length} test interactions`);
        continue;
      }
      const fitDs = withInteractions(ds, interactionsOfItems(ds, split.old));
      const pipe = await trainPipeline(fitDs, { ...eo.pipeline, signals: [signal], trainItems: split.old, fixedThreshold: eo.cvarH + 1, minMaturePosts: 1 }, onProgress);
      const o = pipe.options;
      timings.ffm += pipe.timings.ffm;
      timings.memer += pipe.timings.memer;
      ffm.push(...((pipelineSummary(pipe) as { signals: { ffm: Record<string, unknown>[] }[] }).signals[0]?.ffm ?? []));
      const sig = pipe.signals[0];
      let hybrid: MethodEmbedding | null = null;
      for (const mediaType of MEDIA_TYPES) {
        const media = sig.media[mediaType];
        if (!media) continue;
        const mIdx = MEDIA_TYPES.indexOf(mediaType);
        const ofMedia = (idx: Int32Array) => idx.filter((i) => ds.items.mediaType[ds.interactions.item[i]] === mIdx);
        const seed = o.seed + 101 + s;
        const test = evalRows(ds, signal, ofMedia(split.sets[3]), o.negatives, seed);
        if (!test) {
          reasons.push(`${signal}/${mediaType}: the new items' test interactions have no rows with both labels`);
          continue;
        }
        const key = `${signal}/${mediaType}`;
        thresholds[key] = {
          signal, mediaType, M: eo.cvarH + 1, source: 'cvar H', curveThreshold: null, snapshotEvery: 0, epsilon: media.threshold.epsilon,
          views: [], distance: [], count: [], trainPosts: media.threshold.posts, maturePosts: media.threshold.maturePosts,
        };
        onProgress?.({ stage: 'evaluate', key });
        let t = performance.now();
        const models = await ablationModels(fitDs, sig, media, o, runtime, eo.ablation === true || (Array.isArray(eo.ablation) && eo.ablation.includes(signal)));
        timings.ablation += (performance.now() - t) / 1000;
        t = performance.now();
        const targets = Int32Array.from(new Set(test.post));
        if (eo.strongBaselines && !hybrid) {
          const tb = performance.now();
          const h = hybridBaseline(ds, interactionsOfItems(ds, split.old).filter((i) => ds.interactions.signal[i] === s), eo.hybridLoss, seed + 13, o.modalities);
          hybrid = h.method;
          baselines.push({ signal, method: 'HYBRID_MF', ...h.info });
          timings.baselines += (performance.now() - tb) / 1000;
        }
        const ridge = eo.strongBaselines ? featureLayout(ds, mediaType as MediaType, o.modalities) : [];
        const { list, ridge: ridgeInfo } = await methodEmbeddings({ ds, sig, targets, averageFrom: media.mature, models, runtime, freq: () => 0, seed: seed + 1, mature: false, ridge, extra: hybrid ? [hybrid] : [] });
        if (ridgeInfo) baselines.push({ key, method: 'RIDGE', ...ridgeInfo });
        const g = groupOptions(eo, seed + 31);
        const cold = scoreMethods(ds, signal, mediaType as MediaType, 'cold', test, media.users, sig.d, list, eo.topTags, g);
        results.push(...cold.results);
        perTag.push(...cold.perTag);
        comparisons.push(...cold.comparisons);
        // The warm-up updates post embeddings in the FFM's space; HYBRID_MF has its own and is scored cold only.
        const warmable = list.filter((m) => m.embeddings !== null);
        const r = o.ffm.normalize === false ? 1 : 1 / (2 + new Set(o.contextFields).size);
        for (let w = 0; w < 3; w++) {
          const rows = evalRows(ds, signal, ofMedia(split.sets[w]), o.negatives, seed + 11 * (w + 1));
          if (rows) for (const m of warmable) warmUp(rows, media.users, m.embeddings!, sig.d, eo.warmupLr, r);
          const warm = scoreMethods(ds, signal, mediaType as MediaType, WARM_PHASES[w], test, media.users, sig.d, warmable, 0, g);
          results.push(...warm.results);
          comparisons.push(...warm.comparisons);
        }
        for (const m of models) memer.push({ key, version: m.info.version, modalities: m.modalities, freqScale: m.freqScale, ...m.metrics });
        timings.scoring += (performance.now() - t) / 1000;
      }
    }
  } finally {
    await runtime.dispose();
  }
  requireRows('cvar', results, reasons, ['thresholds that suit the data: --cvar-h H --cvar-n N (ml-latest-small: --cvar-h 50 --cvar-n 5)', 'a protocol without warm sets: --protocol item-cold']);
  timings.total = (performance.now() - t0) / 1000;
  return {
    protocol: 'cvar',
    dataset: datasetInfo,
    thresholds,
    ffm,
    memer,
    results,
    comparisons,
    baselines,
    perTag,
    fairness: fairnessOf(perTag),
    parameters: { ...groupParameters(eo), H: eo.cvarH, n: eo.cvarN, warmupLr: eo.warmupLr, ablation: eo.ablation, pipeline: { ...base, trainItems: undefined } },
    timings,
  };
}
