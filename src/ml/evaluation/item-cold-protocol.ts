/**
 * The item-cold protocol of the hybrid cold-start literature (LightFM, Kula 2015; DropoutNet, Volkovs et al. 2017):
 * no timestamps needed.
 *
 *   held out   a seeded random `coldFraction` (20%) of the posts with an interaction, with every one of their
 *              interactions; or the posts listed in `coldItems` (--held-out-split FILE)
 *   training   the backbone, M and MEMER see the other posts' interactions only; MEMER trains on those past M;
 *              HYBRID_MF on the same interactions, so a held-out post has no id embedding for it either
 *   scored     per (signal, media type), the held-out posts' interactions of the signal from users the backbone
 *              has seen in that signal (warm users, cold posts: a never-seen user's vector is its random init);
 *              positive-only signals get sampled negatives among the held-out posts, never one of the user's
 *              own positives
 *   no MATURE  a held-out post has no backbone embedding, so there is no RelaImpr; GAUC and AUC are the measure
 */
import type { Dataset } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';
import { OnnxRuntime } from '../onnx/runtime.js';
import { pipelineOptions } from '../pipeline/options.js';
import { pipelineSummary } from '../pipeline/progress.js';
import { interactionsOfItems, withInteractions } from '../pipeline/subset.js';
import { trainPipeline, type PipelineEvent } from '../pipeline/train.js';
import { Rng } from '../../lib/random.js';
import { EvaluationError, requireRows } from './errors.js';
import { ColdReport } from './cold-group.js';
import { groupParameters, thresholdReport } from './methods.js';
import { evalRows } from './scoring.js';
import { fairnessOf } from './fairness.js';
import { evaluationOptions, type EvaluationOptions, type EvaluationReport, type ThresholdReport } from './types.js';

/** 1 for the held-out posts: `coldItems` by id, or a seeded `fraction` of the posts that have an interaction. */
export function itemColdSplit(ds: Dataset, fraction: number, seed: number, coldItems: readonly string[] | null = null): Uint8Array {
  const n = ds.items.ids.length;
  const cold = new Uint8Array(n);
  if (coldItems) {
    const index = new Map(ds.items.ids.map((id, i) => [id, i]));
    const unknown = coldItems.filter((id) => !index.has(id));
    if (unknown.length) throw new EvaluationError('BAD_SPLIT', `the held-out split names ${unknown.length} post(s) the dataset does not have, e.g. "${unknown[0]}"`);
    for (const id of coldItems) cold[index.get(id)!] = 1;
    return cold;
  }
  const seen = new Uint8Array(n);
  for (let i = 0; i < ds.interactions.length; i++) seen[ds.interactions.item[i]] = 1;
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) if (seen[i]) candidates.push(i);
  const rng = new Rng(seed ^ 0xc01d);
  for (let k = candidates.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [candidates[k], candidates[j]] = [candidates[j], candidates[k]];
  }
  for (const i of candidates.slice(0, Math.round(fraction * candidates.length))) cold[i] = 1;
  return cold;
}

export async function evaluateItemCold(ds: Dataset, options: Partial<EvaluationOptions> = {}, onProgress?: (e: PipelineEvent | { stage: 'evaluate'; key: string }) => void): Promise<EvaluationReport> {
  const eo = evaluationOptions(options);
  const t0 = performance.now();
  const seconds = (from: number) => (performance.now() - from) / 1000;
  const base = pipelineOptions(eo.pipeline);
  const cold = itemColdSplit(ds, eo.coldFraction, base.seed, eo.coldItems);
  const trainItems = Uint8Array.from(cold, (c) => 1 - c);
  const fit = interactionsOfItems(ds, trainItems);
  const coldCount = cold.reduce((a, b) => a + b, 0);
  if (!ds.interactions.item.some((p) => cold[p] === 1)) throw new EvaluationError('BAD_SPLIT', 'the held-out split holds out no post with an interaction');
  if (fit.length === 0) throw new EvaluationError('BAD_SPLIT', 'the held-out split leaves no interaction to train on');
  const fitDs = withInteractions(ds, fit);
  const pipe = await trainPipeline(fitDs, { ...eo.pipeline, trainItems }, onProgress);
  const o = pipe.options;
  const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: o.threads });
  const report = new ColdReport();
  const thresholds: Record<string, ThresholdReport> = {};
  const reasons: string[] = [];
  try {
    for (const sig of pipe.signals) {
      const s = ds.signals.indexOf(sig.signal);
      const fitOfSignal = fit.filter((i) => ds.interactions.signal[i] === s);
      const warmUser = new Uint8Array(ds.userIds.length);
      for (const i of fitOfSignal) warmUser[ds.interactions.user[i]] = 1;
      for (const mediaType of MEDIA_TYPES) {
        const media = sig.media[mediaType];
        if (!media) continue;
        const th = media.threshold;
        const mIdx = MEDIA_TYPES.indexOf(mediaType);
        thresholds[th.key] = thresholdReport(sig.signal, mediaType, th);
        const idx: number[] = [];
        const t = ds.interactions;
        for (let i = 0; i < t.length; i++) if (t.signal[i] === s && cold[t.item[i]] && warmUser[t.user[i]] && ds.items.mediaType[t.item[i]] === mIdx) idx.push(i);
        const rows = evalRows(ds, sig.signal, Int32Array.from(idx), o.negatives, o.seed + 101 + s);
        if (!rows) {
          reasons.push(`${th.key}: the held-out posts have no rows with both labels from users seen in training (${idx.length} interactions)`);
          continue;
        }
        // Without a MEMER model the baselines are still scored (and the group has no comparisons).
        if (!media.memer) reasons.push(`${th.key}: no MEMER model (${media.memerSkipped ?? 'skipped'})`);
        onProgress?.({ stage: 'evaluate', key: th.key });
        await report.scoreGroup({ ds, fitDs, sig, media, rows, o, eo, runtime, mature: false, freq: () => 0, hybridTrain: () => fitOfSignal });
      }
    }
  } finally {
    await runtime.dispose();
  }
  requireRows('item-cold', report.results, reasons, ['a larger held-out share: --cold-fraction F', 'the signals with most interactions: --signals A,B', 'content features for MEMER: --hash-text D']);
  const summary = pipelineSummary(pipe) as { signals: { ffm: unknown[] }[] };
  return {
    protocol: 'item-cold',
    dataset: {
      name: ds.name, items: ds.items.ids.length, users: ds.userIds.length, interactions: ds.interactions.length, signals: ds.signals,
      trainPosts: ds.items.ids.length - coldCount, heldOutPosts: coldCount, fitInteractions: fit.length, heldOutInteractions: ds.interactions.length - fit.length,
    },
    thresholds,
    ffm: summary.signals.flatMap((x) => x.ffm as Record<string, unknown>[]),
    memer: report.memer,
    results: report.results,
    comparisons: report.comparisons,
    baselines: report.baselines,
    perTag: report.perTag,
    fairness: fairnessOf(report.perTag),
    parameters: { ...groupParameters(eo), coldFraction: eo.coldFraction, heldOutSplit: eo.coldItems ? 'given' : 'seeded', ablation: eo.ablation, pipeline: { ...o, trainItems: undefined } },
    timings: { ffm: pipe.timings.ffm, maturity: pipe.timings.maturity, memer: pipe.timings.memer, ...report.timings, total: seconds(t0) },
  };
}
