/**
 * The metrics a model version records (ModelVersion.metrics, JSON), typed once: what `memer train` writes for a
 * backbone (kind FFM: the FFM report, the hybrid's when it served, the thresholds) and for a MEMER model (the
 * pipeline's MemerModelMetrics plus what serving needs: freqScale, inputs, stored widths, the backbone it maps into).
 * Readers go through `readMetrics`, which tolerates rows written by older versions (every field optional there).
 */
import type { FeatureDims } from '../../config/config.js';
import type { Modality } from '../../datasets/types.js';
import type { FfmReport, MemerModelMetrics } from '../../ml/pipeline/index.js';
import type { TrialRecord } from '../../ml/memer/search.js';

export interface BackboneVersionMetrics {
  backbone: 'ffm' | 'hybrid';
  ffm: FfmReport[];
  /** the hybrid backbone's training report, when it served */
  hybrid?: Record<string, unknown>;
  /** M per `signal/mediaType` key */
  thresholds: Partial<Record<string, { threshold: number }>>;
  posts: number;
  users: number;
}

export interface MemerVersionMetrics extends MemerModelMetrics {
  /** freq = log(1 + views) / log(1 + freqScale) */
  freqScale: number;
  /** the model's inputs */
  modalities: { modality: Modality; dim: number }[];
  /** the stored features' widths (serving cuts a stored vector to the model's input when the rest is zero) */
  featureWidths: FeatureDims;
  /** D of `memer train --hash-text D`: the text input is computed by the service */
  hashedText?: number;
  /** the FFM (backbone) version of the same run */
  backbone: string;
  /** random-search trials, when a search chose it */
  search?: TrialRecord[];
}

/** A stored row's metrics, every field optional (older rows lack some); {} for unparsable JSON. */
export function readMetrics<T extends BackboneVersionMetrics | MemerVersionMetrics>(json: string | unknown): Partial<T> {
  if (typeof json !== 'string') return (json ?? {}) as Partial<T>;
  try {
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' ? (v as Partial<T>) : {};
  } catch {
    return {};
  }
}
