/**
 * One (signal, media type) group of a cold-start protocol (time, item-cold): its MEMER ablation models, every method's
 * embeddings of the scored posts (HYBRID_MF trained once per signal), the metrics and the comparisons, appended to the
 * protocol's running report. The protocols differ only in which rows they score and what trains the models.
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import { featureLayout } from '../pipeline/features.js';
import type { MemerModel } from '../pipeline/memer-model.js';
import type { PipelineOptions } from '../pipeline/options.js';
import type { MediaModel, SignalModel } from '../pipeline/train.js';
import type { Comparison } from './comparisons.js';
import { ablationModels, groupOptions, hybridBaseline, methodEmbeddings, scoreMethods, type MethodEmbedding } from './methods.js';
import type { EvalRows } from './scoring.js';
import type { EvaluationOptions, ResultRow, TagGain } from './types.js';

/** What the groups of one protocol run add up to. */
export class ColdReport {
  readonly results: ResultRow[] = [];
  readonly perTag: TagGain[] = [];
  readonly comparisons: Comparison[] = [];
  readonly memer: Record<string, unknown>[] = [];
  readonly baselines: Record<string, unknown>[] = [];
  readonly timings = { ablation: 0, baselines: 0, scoring: 0 };
  /** HYBRID_MF per signal: trained at the signal's first scored group. */
  private readonly hybrid = new Map<string, MethodEmbedding>();

  async scoreGroup(g: {
    ds: Dataset; fitDs: Dataset; sig: SignalModel; media: MediaModel; rows: EvalRows; o: PipelineOptions; eo: EvaluationOptions; runtime: OnnxRuntime;
    /** MATURE (the backbone's own embedding) is a reference only where the scored posts have one. */
    mature: boolean;
    freq: (model: MemerModel) => number;
    /** The interactions HYBRID_MF trains on: the signal's, of the posts MEMER may learn from. */
    hybridTrain: () => Int32Array;
  }): Promise<void> {
    const { ds, sig, media, o, eo } = g;
    const s = ds.signals.indexOf(sig.signal);
    const key = media.threshold.key;
    const since = (t: number) => (performance.now() - t) / 1000;
    let t = performance.now();
    const models = await ablationModels(g.fitDs, sig, media, o, g.runtime, eo.ablation === true || (Array.isArray(eo.ablation) && eo.ablation.includes(sig.signal)));
    this.timings.ablation += since(t);
    t = performance.now();
    let hybrid = this.hybrid.get(sig.signal);
    if (eo.strongBaselines && !hybrid) {
      const h = hybridBaseline(ds, g.hybridTrain(), eo.hybridLoss, o.seed + 13 + s, o.modalities);
      this.hybrid.set(sig.signal, (hybrid = h.method));
      this.baselines.push({ signal: sig.signal, method: 'HYBRID_MF', ...h.info });
    }
    this.timings.baselines += since(t);
    t = performance.now();
    const targets = Int32Array.from(new Set(g.rows.post));
    const ridge = eo.strongBaselines ? featureLayout(ds, media.mediaType, o.modalities) : [];
    const { list, tagFallbacks, ridge: ridgeInfo } = await methodEmbeddings({
      ds, sig, targets, averageFrom: media.mature, models, runtime: g.runtime, freq: g.freq, seed: o.seed + 7 + s, mature: g.mature, ridge, extra: hybrid ? [hybrid] : [],
    });
    if (ridgeInfo) this.baselines.push({ key, method: 'RIDGE', ...ridgeInfo });
    const scored = scoreMethods(ds, sig.signal, media.mediaType as MediaType, 'cold', g.rows, media.users, sig.d, list, eo.topTags, groupOptions(eo, o.seed + 31 + s));
    this.results.push(...scored.results);
    this.perTag.push(...scored.perTag);
    this.comparisons.push(...scored.comparisons);
    for (const m of models) this.memer.push({ key, version: m.info.version, modalities: m.modalities, freqScale: m.freqScale, ...m.metrics, tagFallbacks, ...(m.trials.length ? { search: m.trials } : {}) });
    this.timings.scoring += since(t);
  }
}
