/**
 * One FFM backbone per signal (and per media type when asked): split each signal's interactions into train and
 * validation, build rows (context fields, negative sampling), train with early stopping, and report the embeddings
 * with the AUC of the full score and of the dot product on the validation rows.
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';
import { Rng } from '../../lib/random.js';
import { bytesPerRow } from './data.js';
import { buildSignalRows, contextFields, selectInteractions, signalIndex, type NegativeSampling } from './dataset.js';
import { embeddingAuc, ffmEmbeddings, type EmbeddingAuc, type FfmEmbeddings } from './embeddings.js';
import { FfmError } from './errors.js';
import type { EpochRecord, FfmModel } from './model.js';
import { ffmParams, type FfmParams } from './params.js';
import { trainFfm } from './train.js';

export interface BackboneOptions {
  /** Signals to train (default: all of ds.signals). */
  readonly signals?: readonly string[];
  /** One backbone per (signal, media type) instead of per signal. */
  readonly byMediaType?: boolean;
  readonly contextFields?: readonly string[];
  readonly negatives?: Partial<NegativeSampling>;
  readonly params?: Partial<FfmParams>;
  /** Fraction of each signal's interactions held out for early stopping and the AUC report (default 0.1). */
  readonly validationFraction?: number;
  /** 'random' holds out a random fraction; 'time' holds out the latest interactions (default 'random'). */
  readonly split?: 'random' | 'time';
  /** Skip (signal, media type) groups with fewer interactions than this (default 1). */
  readonly minInteractions?: number;
  /**
   * A grid over eta, lambda and biasLambda (each list defaults to the value in `params`): one model per combination,
   * each early-stopped on the validation rows, and the best by `metric` on those rows is kept (never test rows: the
   * caller's held-out data is not seen). Needs validationFraction > 0. Null = train once with `params`.
   */
  readonly search?: FfmSearch | null;
  readonly onEpoch?: (key: string, record: EpochRecord) => void;
}

export interface FfmSearch {
  readonly eta?: readonly number[];
  readonly lambda?: readonly number[];
  readonly biasLambda?: readonly number[];
  /** 'logLoss' (default: lowest validation log loss) or 'auc' (highest validation AUC of the full score). */
  readonly metric?: 'logLoss' | 'auc';
}

export interface SearchTrial {
  readonly eta: number;
  readonly lambda: number;
  readonly biasLambda: number;
  readonly logLoss: number;
  readonly aucFull: number;
  readonly epochs: number;
  readonly bestEpoch: number;
}

export interface Backbone {
  /** `signal` or `signal/mediaType`. */
  readonly key: string;
  readonly signal: string;
  readonly mediaType: MediaType | null;
  readonly model: FfmModel;
  readonly embeddings: FfmEmbeddings;
  /** Full-score and dot-product AUC on the validation rows (null without validation rows). */
  readonly validation: EmbeddingAuc | null;
  readonly trainRows: number;
  readonly validRows: number;
  readonly bytesPerRow: number;
  /** The grid of options.search, in the order tried (the model is the best trial's); null without a search. */
  readonly search: SearchTrial[] | null;
}

/** The (eta, lambda, biasLambda) combinations of a search grid; every list defaults to the value in params. */
export function searchGrid(search: FfmSearch, params: FfmParams): { eta: number; lambda: number; biasLambda: number }[] {
  const list = (v: readonly number[] | undefined, d: number, what: string) => {
    if (v === undefined) return [d];
    if (v.length === 0) throw new FfmError('BAD_PARAM', `search.${what} must list at least one value`);
    return [...v];
  };
  const out: { eta: number; lambda: number; biasLambda: number }[] = [];
  for (const eta of list(search.eta, params.eta, 'eta')) {
    for (const lambda of list(search.lambda, params.lambda, 'lambda')) {
      for (const biasLambda of list(search.biasLambda, params.biasLambda, 'biasLambda')) out.push({ eta, lambda, biasLambda });
    }
  }
  for (const g of out) ffmParams({ ...params, ...g }); // typed errors for bad values before any training
  return out;
}

/** Splits interaction indices into train and validation parts. */
export function splitInteractions(ds: Dataset, rows: Int32Array, fraction: number, split: 'random' | 'time', seed: number): { train: Int32Array; valid: Int32Array } {
  if (!(fraction >= 0 && fraction < 1)) throw new FfmError('BAD_PARAM', `validationFraction must be in [0, 1), got ${fraction}`);
  const order = Int32Array.from(rows);
  if (split === 'time') order.sort((a, b) => ds.interactions.time[a] - ds.interactions.time[b] || a - b);
  else new Rng(seed).shuffle(order);
  const nValid = Math.floor(order.length * fraction);
  return { train: order.slice(0, order.length - nValid), valid: order.slice(order.length - nValid) };
}

export async function trainBackbones(ds: Dataset, options: BackboneOptions = {}): Promise<Backbone[]> {
  const signals = options.signals ?? ds.signals;
  for (const s of signals) signalIndex(ds, s);
  const context = contextFields(options.contextFields);
  const params = ffmParams(options.params);
  const groups: (MediaType | null)[] = options.byMediaType ? [...MEDIA_TYPES] : [null];
  const out: Backbone[] = [];
  for (const signal of signals) {
    for (const mediaType of groups) {
      const key = mediaType === null ? signal : `${signal}/${mediaType}`;
      let rows: Int32Array;
      try {
        rows = selectInteractions(ds, signal, mediaType);
      } catch (e) {
        if (e instanceof FfmError && e.code === 'EMPTY_DATA') continue; // a signal or media type without data
        throw e;
      }
      if (rows.length < (options.minInteractions ?? 1)) continue;
      const { train, valid } = splitInteractions(ds, rows, options.validationFraction ?? 0.1, options.split ?? 'random', params.seed);
      const common = { signal, mediaType, contextFields: context, negatives: options.negatives };
      const trainRows = buildSignalRows(ds, { ...common, interactions: train, seed: params.seed, order: 'given' });
      const validRows = valid.length > 0 ? buildSignalRows(ds, { ...common, interactions: valid, seed: params.seed + 1, order: 'given' }) : null;
      const train1 = (p: FfmParams) => trainFfm(trainRows.data, { params: p, validation: validRows?.data ?? null, onEpoch: (r) => options.onEpoch?.(key, r) });
      let model: FfmModel;
      let search: SearchTrial[] | null = null;
      if (options.search) {
        if (validRows === null) throw new FfmError('BAD_PARAM', `search needs validation rows (validationFraction > 0) for ${key}`);
        const byAuc = options.search.metric === 'auc';
        search = [];
        let best: { model: FfmModel; score: number } | null = null;
        for (const g of searchGrid(options.search, params)) {
          const m = await train1(ffmParams({ ...params, ...g }));
          const v = embeddingAuc(m, validRows.data);
          search.push({ ...g, logLoss: v.logLoss, aucFull: v.aucFull, epochs: m.history.length, bestEpoch: m.bestEpoch });
          const score = byAuc ? -v.aucFull : v.logLoss;
          if (best === null || score < best.score) best = { model: m, score };
        }
        model = best!.model;
      } else {
        model = await train1(params);
      }
      out.push({
        key,
        signal,
        mediaType,
        model,
        embeddings: ffmEmbeddings(model),
        validation: validRows ? embeddingAuc(model, validRows.data) : null,
        trainRows: trainRows.data.rows,
        validRows: validRows?.data.rows ?? 0,
        bytesPerRow: bytesPerRow(trainRows.data),
        search,
      });
    }
  }
  if (out.length === 0) throw new FfmError('EMPTY_DATA', `no interactions for signals ${signals.join(', ')}`);
  return out;
}
