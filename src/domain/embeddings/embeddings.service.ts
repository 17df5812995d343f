/**
 * Which embedding serves a post for a signal. AUTO picks, in order: MATURE once the post crossed the maturity
 * threshold M and a mature (FFM) embedding is stored; else the stored MEMER prediction; else TAG_AVG; else
 * GLOBAL_AVG; null when none exists yet. Explicit sources return exactly that source (RANDOM always exists).
 */
import { bytesToVector } from '../../lib/vectors.js';
import type { RequestLoaders } from '../loaders.js';
import { maturityOf } from '../maturity/maturity.js';
import type { EmbeddingSource, PostRecord, SignalRecord } from '../types.js';
import { randomEmbedding, tagAverage } from './baselines.js';
import { autoSource } from './source.js';

export type SourceChoice = 'AUTO' | EmbeddingSource;

export interface EmbeddingView {
  source: EmbeddingSource;
  vector: Float32Array;
  modelVersion: string | null;
  /** Views when a stored vector was computed (MEMER's freq input); null for computed baselines. */
  views: number | null;
  updatedAt: Date | null;
}

export async function resolveEmbedding(loaders: RequestLoaders, post: PostRecord, signal: SignalRecord, source: SourceChoice): Promise<EmbeddingView | null> {
  const chosen = source === 'AUTO' ? await servingSource(loaders, post, signal) : source;
  switch (chosen) {
    case null:
      return null;
    case 'MATURE':
    case 'MEMER':
      return stored(loaders, post, signal, chosen);
    case 'TAG_AVG':
    case 'GLOBAL_AVG':
    case 'RANDOM':
      return computed(loaders, post, signal, chosen);
  }
}

/**
 * The source AUTO serves the post from for the signal, decided from what exists without building any vector (an
 * upload's response asks this for six signals; building the five unused candidates was most of its field work).
 */
export async function servingSource(loaders: RequestLoaders, post: PostRecord, signal: SignalRecord): Promise<EmbeddingSource | null> {
  return knownServingSource(loaders, post, signal) ?? decideServingSource(loaders, post, signal);
}

/**
 * The AUTO source where it is known without a load: a post created in this request with a MEMER vector for the signal
 * has no MATURE embedding yet, so MEMER serves it. Synchronous, so that an upload's response (six signals) costs no
 * promise per candidate; undefined otherwise.
 */
export function knownServingSource(loaders: RequestLoaders, post: PostRecord, signal: SignalRecord): EmbeddingSource | undefined {
  return loaders.createdMemer(post.key, signal.key) ? 'MEMER' : undefined;
}

/** The AUTO source from the loaders (what knownServingSource cannot answer). */
export async function decideServingSource(loaders: RequestLoaders, post: PostRecord, signal: SignalRecord): Promise<EmbeddingSource | null> {
  const [stat, threshold, mature, memer, averages] = await Promise.all([
    loaders.stat(post.key, signal.key),
    loaders.threshold(signal.key, post.mediaType),
    loaders.embedding(post.key, signal.key, 'MATURE'),
    loaders.embedding(post.key, signal.key, 'MEMER'),
    loaders.averages.load(signal.key),
  ]);
  return autoSource({
    matureStage: maturityOf(stat, threshold).status === 'MATURE',
    mature: mature !== null,
    memer: memer !== null,
    tagAvg: post.tags.some((t) => averages.byTag.has(t)),
    globalAvg: averages.global !== null,
  });
}

/** The baselines side by side (A/B control arms): GLOBAL_AVG, TAG_AVG and RANDOM, those that exist. */
export async function baselines(loaders: RequestLoaders, post: PostRecord, signal: SignalRecord): Promise<EmbeddingView[]> {
  const views = await Promise.all((['GLOBAL_AVG', 'TAG_AVG', 'RANDOM'] as const).map((s) => computed(loaders, post, signal, s)));
  return views.filter((v): v is EmbeddingView => v !== null);
}

async function stored(loaders: RequestLoaders, post: PostRecord, signal: SignalRecord, source: 'MATURE' | 'MEMER'): Promise<EmbeddingView | null> {
  const row = await loaders.embedding(post.key, signal.key, source);
  if (!row) return null;
  return { source, vector: bytesToVector(row.vector), modelVersion: row.modelVersion, views: row.views, updatedAt: row.updatedAt };
}

async function computed(loaders: RequestLoaders, post: PostRecord, signal: SignalRecord, source: 'TAG_AVG' | 'GLOBAL_AVG' | 'RANDOM'): Promise<EmbeddingView | null> {
  const averages = await loaders.averages.load(signal.key);
  const vector =
    source === 'RANDOM' ? randomEmbedding(post.id, signal.name, averages.dim) : source === 'GLOBAL_AVG' ? averages.global : tagAverage(averages, post.tags);
  return vector ? { source, vector, modelVersion: null, views: null, updatedAt: null } : null;
}
