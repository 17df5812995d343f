/** The records the experiments services hand out (docs/experiments.md). Internal keys never reach clients. */
import type { EmbeddingSource } from '../types.js';

export type ExperimentStatus = 'DRAFT' | 'RUNNING' | 'STOPPED';

/**
 * What ranks an arm's early-stage posts. MEMER is what every user outside an experiment gets (AUTO: the MEMER vector,
 * else the tag average, else the global average); the baselines rank every early-stage post by themselves. MATURE
 * posts are ranked by their mature embedding in every arm.
 */
export type ArmSource = Extract<EmbeddingSource, 'MEMER' | 'TAG_AVG' | 'GLOBAL_AVG' | 'RANDOM'>;
export const ARM_SOURCES: readonly ArmSource[] = ['MEMER', 'TAG_AVG', 'GLOBAL_AVG', 'RANDOM'];

export interface ArmRecord {
  /** 0 is the control. */
  ordinal: number;
  name: string;
  /** Fraction of all users in (0, 1]. */
  share: number;
  source: ArmSource;
}

export interface ExperimentRecord {
  key: number;
  name: string;
  signal: { key: number; name: string };
  status: ExperimentStatus;
  arms: ArmRecord[];
  attributionWindowS: number;
  description: string;
  createdAt: Date;
  startedAt: Date | null;
  stoppedAt: Date | null;
  droppedImpressions: number;
}

/** A user's arm in a running experiment. */
export interface Assignment {
  experimentKey: number;
  experiment: string;
  signal: string;
  arm: ArmRecord;
}

/**
 * What one response showed one user (ExperimentExposure): the posts in position order from `position` on, with the
 * source that ranked each (null: a popularity fallback, or not reported).
 */
export interface ExposureRow {
  experimentKey: number;
  userId: string;
  arm: number;
  origin: 'SERVED' | 'CLIENT';
  servedAt: Date;
  position: number;
  postKeys: readonly number[];
  sources: readonly (EmbeddingSource | null)[];
}

/** ExperimentExposure.sources: one byte per post, the index in this list; NO_SOURCE for none. */
export const SOURCE_CODES: readonly EmbeddingSource[] = ['MEMER', 'MATURE', 'GLOBAL_AVG', 'TAG_AVG', 'RANDOM'];
export const NO_SOURCE = 255;

export function packPosts(keys: readonly number[]): Uint8Array {
  const out = new Uint8Array(keys.length * 4);
  const view = new DataView(out.buffer);
  keys.forEach((k, i) => view.setInt32(i * 4, k, true));
  return out;
}

export function unpackPosts(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength >> 2 }, (_, i) => view.getInt32(i * 4, true));
}

export function packSources(sources: readonly (EmbeddingSource | null)[]): Uint8Array {
  return Uint8Array.from(sources, (s) => (s === null ? NO_SOURCE : SOURCE_CODES.indexOf(s)));
}
