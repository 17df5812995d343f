/**
 * Export of a trained MEMER model as a standalone inference ONNX file: inputs are the modality features (one input per
 * modality, raw, un-normalised), `presence` [N, M] and `freq` [N, 1]; the output `embedding` [N, d] is eq. 12.
 * Normalisation is folded into the graph and also recorded, with everything else a server needs, in metadata_props.
 */
import { writeFile } from 'node:fs/promises';
import type { MediaType, Modality } from '../../datasets/types.js';
import { readOnnxMetadata, toOnnx } from '../graph/onnx.js';
import type { MemerConfig, ModalitySpec } from './config.js';
import { statsFromJson, statsToJson, type ModalityStats } from './features.js';
import { INPUT, OUTPUT, type MemerGraph, type StatsByModality } from './model.js';
import { priorToJson, type Prior } from './prior.js';

/** Version of the metadata layout below. */
export const MEMER_FORMAT_VERSION = '1';

export const META = {
  format: 'memer.format_version',
  version: 'memer.model_version',
  signal: 'memer.signal',
  mediaType: 'memer.media_type',
  modalities: 'memer.modalities',
  embeddingDim: 'memer.embedding_dim',
  inputs: 'memer.inputs',
  output: 'memer.output',
  normalization: 'memer.normalization',
  metrics: 'memer.metrics',
  config: 'memer.config',
  createdAt: 'memer.created_at',
  /** JSON priorToJson (kind, tag vocabulary in `tags` input column order, ...); absent: no prior */
  prior: 'memer.prior',
} as const;

export interface ExportInfo {
  /** the interaction signal the model was trained for (e.g. click, video_play) */
  signal: string;
  mediaType: MediaType;
  /** model version id (the registry key) */
  version: string;
  /** training metrics to record (JSON-serialisable) */
  metrics?: unknown;
  /** ISO timestamp (default: now) */
  createdAt?: string;
}

export interface TrainedModel {
  config: MemerConfig;
  model: MemerGraph;
  stats: StatsByModality;
  weights: ReadonlyMap<string, Float32Array>;
  /** the fitted prior of a residual model (its table is a constant of the graph) */
  prior?: Prior;
}

/** The prior as recorded in the metadata: `tags` are the columns of the `tags` input (its last column: no known tag). */
export interface MemerPriorInfo {
  kind: 'global-average' | 'tag-average' | 'linear';
  tags: string[];
  counts: number[];
  posts: number;
  smoothing: number;
  global: number[];
}

export interface MemerModelInfo {
  formatVersion: string;
  version: string;
  signal: string;
  mediaType: MediaType;
  modalities: ModalitySpec[];
  embeddingDim: number;
  inputs: string[];
  output: string;
  normalization: Partial<Record<Modality, ModalityStats>>;
  metrics: unknown;
  config: unknown;
  createdAt: string;
  /** null: no prior (the paper's model) */
  prior: MemerPriorInfo | null;
}

/** Encode the inference model of a trained MEMER with its metadata. */
export function exportInferenceModel(trained: TrainedModel, info: ExportInfo): Uint8Array {
  const arch = trained.config.architecture;
  const normalization: Record<string, unknown> = {};
  for (const spec of arch.modalities) normalization[spec.modality] = statsToJson(trained.stats[spec.modality]!);
  const metadata: Record<string, string> = {
    [META.format]: MEMER_FORMAT_VERSION,
    [META.version]: info.version,
    [META.signal]: info.signal,
    [META.mediaType]: info.mediaType,
    [META.modalities]: JSON.stringify(arch.modalities),
    [META.embeddingDim]: String(arch.embeddingDim),
    [META.inputs]: JSON.stringify(trained.model.inferenceInputs),
    [META.output]: OUTPUT.embedding,
    [META.normalization]: JSON.stringify(normalization),
    [META.metrics]: JSON.stringify(info.metrics ?? null),
    [META.config]: JSON.stringify(trained.config),
    [META.createdAt]: info.createdAt ?? new Date().toISOString(),
  };
  if (trained.prior) metadata[META.prior] = JSON.stringify(priorToJson(trained.prior));
  return toOnnx(trained.model.graph, {
    outputs: [OUTPUT.embedding],
    params: 'initializers',
    values: trained.weights,
    keepInputs: trained.model.inferenceInputs,
    graphName: `memer_${info.signal}_${info.mediaType}`,
    docString: trained.prior
      ? `MEMER early-stage item embedding on a ${trained.prior.kind} prior: embedding = prior(${trained.prior.tags.length ? INPUT.tags : ''}) + dec1(enc2(feat), freq) (eq. 12)`
      : 'MEMER early-stage item embedding: embedding = dec1(enc2(feat), freq) (eq. 12)',
    metadata,
  });
}

export async function writeInferenceModel(path: string, trained: TrainedModel, info: ExportInfo): Promise<Uint8Array> {
  const bytes = exportInferenceModel(trained, info);
  await writeFile(path, bytes);
  return bytes;
}

/** Parse MEMER metadata (from readOnnxMetadata or Session.metadata); throws if it is not a MEMER model. */
export function parseMemerMetadata(meta: Readonly<Record<string, string>>): MemerModelInfo {
  const need = (k: string) => {
    const v = meta[k];
    if (v === undefined) throw new Error(`not a MEMER model: metadata "${k}" missing`);
    return v;
  };
  const format = need(META.format);
  if (format !== MEMER_FORMAT_VERSION) throw new Error(`unsupported MEMER format version ${format}`);
  const normJson = JSON.parse(need(META.normalization)) as Record<string, { mean: number[]; std: number[]; count: number }>;
  const normalization: Partial<Record<Modality, ModalityStats>> = {};
  for (const [k, v] of Object.entries(normJson)) normalization[k as Modality] = statsFromJson(v);
  return {
    formatVersion: format,
    version: need(META.version),
    signal: need(META.signal),
    mediaType: need(META.mediaType) as MediaType,
    modalities: JSON.parse(need(META.modalities)) as ModalitySpec[],
    embeddingDim: Number(need(META.embeddingDim)),
    inputs: JSON.parse(need(META.inputs)) as string[],
    output: need(META.output),
    normalization,
    metrics: JSON.parse(need(META.metrics)),
    config: JSON.parse(need(META.config)),
    createdAt: need(META.createdAt),
    prior: meta[META.prior] === undefined ? null : (JSON.parse(meta[META.prior]) as MemerPriorInfo),
  };
}

export function readMemerInfo(bytes: Uint8Array): MemerModelInfo {
  return parseMemerMetadata(readOnnxMetadata(bytes));
}
