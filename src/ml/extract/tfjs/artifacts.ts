/**
 * The parts of a TF.js model that the converter reads: the topology (a Keras layers model or a TensorFlow graph
 * model), the weight specs and the weight bytes. `artifactsFromModelJson` assembles them from a model.json and its
 * shards; `readTfjsModelDir` does so from a folder on disk (model.json + the shard files it names).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TfjsConversionError } from './errors.js';
import type { WeightSpec, WeightsManifestGroup } from './weights.js';

export type TfjsFormat = 'layers-model' | 'graph-model';

/** model.json as TF.js writes it. */
export interface TfjsModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: unknown;
  weightsManifest: WeightsManifestGroup[];
  userDefinedMetadata?: unknown;
}

export interface TfjsArtifacts {
  format: TfjsFormat;
  modelTopology: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  /** Every shard's bytes, concatenated in manifest order. */
  weightData: Uint8Array;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The format a model.json declares, or the one its topology has (graph models have `node`, layers models a config). */
export function detectFormat(format: string | undefined, topology: unknown): TfjsFormat {
  if (format === 'layers-model' || format === 'graph-model') return format;
  if (isRecord(topology)) {
    if (Array.isArray(topology.node)) return 'graph-model';
    if (isRecord(topology.model_config) || typeof topology.class_name === 'string') return 'layers-model';
  }
  throw new TfjsConversionError('BAD_MODEL', `unknown TF.js model format${format ? ` "${format}"` : ''}: the topology is neither a layers model nor a graph model`);
}

/** Assemble artifacts from a model.json and a reader of its shards (by the paths the manifest names). */
export function artifactsFromModelJson(json: TfjsModelJson, shard: (path: string) => Uint8Array): TfjsArtifacts {
  if (!isRecord(json) || !isRecord(json.modelTopology)) throw new TfjsConversionError('BAD_MODEL', 'model.json has no modelTopology object');
  if (!Array.isArray(json.weightsManifest)) throw new TfjsConversionError('BAD_MODEL', 'model.json has no weightsManifest');
  const format = detectFormat(json.format, json.modelTopology);
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) parts.push(shard(path));
    specs.push(...group.weights);
  }
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    weightData.set(p, at);
    at += p.length;
  }
  return { format, modelTopology: json.modelTopology, weightSpecs: specs, weightData };
}

/** A TF.js model saved as files: `dir/model.json` and its shards beside it. */
export async function readTfjsModelDir(dir: string, modelFile = 'model.json'): Promise<TfjsArtifacts> {
  const json = JSON.parse(await readFile(join(dir, modelFile), 'utf8')) as TfjsModelJson;
  const shards = new Map<string, Uint8Array>();
  for (const group of json.weightsManifest ?? []) {
    for (const path of group.paths) shards.set(path, new Uint8Array(await readFile(join(dir, path))));
  }
  return artifactsFromModelJson(json, (p) => shards.get(p)!);
}
