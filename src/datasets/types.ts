/**
 * In-memory form of a dataset folder (format: ../../docs/architecture.md, "Data formats"), shared by the FFM, MEMER,
 * maturity and evaluation code. Columnar typed arrays: no object per interaction, so 10M rows fit in memory.
 * Items and users are referred to by dense indices (0..n-1); the string ids are kept alongside for output.
 */

import type { MediaType, Modality } from '../lib/vocabulary.js';

/** Media types and modalities are defined once, in src/lib/vocabulary.ts (the configuration reads them too). */
export { MEDIA_TYPES, MODALITIES, type MediaType, type Modality } from '../lib/vocabulary.js';

export interface ItemTable {
  ids: string[];
  /** Epoch seconds. */
  createdAt: Float64Array;
  /** 0 = video, 1 = image (index into MEDIA_TYPES). */
  mediaType: Uint8Array;
  /** Tag vocabulary, and each item's tag indices (CSR: tagIds[tagOffsets[i] .. tagOffsets[i+1]]). */
  tagNames: string[];
  tagOffsets: Int32Array;
  tagIds: Int32Array;
  text: string[];
}

export interface InteractionTable {
  length: number;
  user: Int32Array;
  item: Int32Array;
  /** Index into Dataset.signals. */
  signal: Uint8Array;
  /** 1 positive, 0 explicit negative. */
  label: Uint8Array;
  /** Epoch seconds. */
  time: Float64Array;
}

/** One modality's feature matrix, row i = item i. float16 data is kept as raw Uint16 halves. */
export interface FeatureMatrix {
  rows: number;
  dim: number;
  dtype: 'float32' | 'float16';
  data: Float32Array | Uint16Array;
}

export interface Dataset {
  name: string;
  items: ItemTable;
  userIds: string[];
  /** Signal names as they appear in interactions.csv, in first-seen order. */
  signals: string[];
  interactions: InteractionTable;
  features: Partial<Record<Modality, FeatureMatrix>>;
}
