/**
 * One FFM backbone per signal (and per media type when asked): split each signal's interactions into train and
 * validation, build rows (context fields, negative sampling), train with early stopping, and report the embeddings
 * with the AUC of the full score and of the dot product on the validation rows.
 */
import type { Dataset, MediaType } from '../../datasets/types.js';
import { MEDIA_TYPES } from '../../datasets/types.js';
import { Rng } from '../random.js';
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
  readonly onEpoch?: (key: string, record: EpochRecord) => void;
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
      const model = await trainFfm(trainRows.data, {
        params,
        validation: validRows?.data ?? null,
        onEpoch: (r) => options.onEpoch?.(key, r),
      });
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
      });
    }
  }
  if (out.length === 0) throw new FfmError('EMPTY_DATA', `no interactions for signals ${signals.join(', ')}`);
  return out;
}
