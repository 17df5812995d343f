/**
 * Content features from raw inputs (paper 2.2): runs extractor models given as ONNX files (ResNeXt3D-101 on video
 * frames, DenseNet161 on images, VGGish on audio, FastText on text in the paper; any model that maps a batch of inputs
 * to a batch of vectors here) over each item's raw input, and writes features/<modality>.npy of a dataset folder.
 *
 * An item's input is `<inputs>/<encodeURIComponent(item_id)>.npy`: float32 or float16, either one step shaped like
 * the model's input without its batch axis, or T steps with time as the first axis (frames, seconds of audio, lines
 * of text). Every step runs through the model and the item's feature is the mean of its steps' outputs, the paper's
 * averaging over time. Steps of consecutive items share onnxruntime runs of up to `batch` steps.
 *
 * One model per media type (`video=...`, `image=...`) or one for all. An item whose media type has no model, or
 * without an input file, gets the all-zero row that marks a missing modality (features.ts). Output rows of different
 * widths share the file zero-padded on the right, as the dataset format prescribes. The file is written under a
 * temporary name and renamed when complete: a failed run leaves the previous file as it was.
 */
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetError } from '../../datasets/errors.js';
import { autoFeatureDtype, featurePath } from '../../datasets/features.js';
import { halvesToFloats } from '../../datasets/float16.js';
import { readItemsCsv } from '../../datasets/items.js';
import { NpyWriter, readNpy, type NpyArray, type NpyDtype } from '../../datasets/npy.js';
import { MEDIA_TYPES, type MediaType, type Modality } from '../../datasets/types.js';
import { OnnxRuntime, type ProviderChoice } from '../onnx/runtime.js';
import type { Session } from '../onnx/session.js';
import { matchShape, sameShape } from '../graph/shape.js';

/** Items whose input files are read ahead of the one being run, and how many bytes of them at most. */
const READ_AHEAD = 16;
const READ_AHEAD_BYTES = 256 * 2 ** 20;

export interface ExtractorModel {
  /** The media type this model serves; 'all' serves every media type without a model of its own. */
  mediaType: MediaType | 'all';
  path: string;
}

export interface ExtractOptions {
  /** The dataset folder (items.csv; the output goes to features/<modality>.npy). */
  dataset: string;
  modality: Modality;
  models: readonly ExtractorModel[];
  /** Folder of raw inputs, one .npy per item. */
  inputs: string;
  /** Steps per onnxruntime run. */
  batch: number;
  dtype: NpyDtype | 'auto';
  provider: ProviderChoice;
  /** onnxruntime intra-op threads (0: its default). */
  threads: number;
}

export const DEFAULT_EXTRACT_OPTIONS = Object.freeze({ batch: 64, dtype: 'auto' as const, provider: 'auto' as ProviderChoice, threads: 0 });

export interface ExtractSummary {
  dataset: string;
  modality: Modality;
  file: string;
  items: number;
  /** Items given a feature row, per media type. */
  extracted: Record<MediaType, number>;
  /** Items left with the all-zero (missing) row: no model for their media type, or no input file. */
  missing: number;
  /** Extracted rows that came out all zero, and will read as missing (features.ts, featurePresence). */
  allZero: number;
  /** Output width of each media type's model, and of the file. */
  dims: Partial<Record<MediaType, number>>;
  width: number;
  steps: number;
  runs: number;
  dtype: NpyDtype;
  provider: string;
  seconds: number;
}

/** The file an item's raw input is read from: its id, URI-encoded so that any id is a safe file name. */
export function inputPath(inputs: string, itemId: string): string {
  return join(inputs, `${encodeURIComponent(itemId)}.npy`);
}

interface Extractor {
  session: Session;
  input: string;
  output: string;
  /** The model's input shape without its batch axis. */
  step: readonly (number | string)[];
  dim: number;
}

async function load(runtime: OnnxRuntime, path: string): Promise<Session> {
  try {
    return await runtime.createSession(path, `extractor ${path}`);
  } catch (err) {
    throw new DatasetError(path, 0, `onnxruntime cannot load it as an extractor: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Checks the model's signature: one float32 input [batch, ...], an output [batch, D] with D fixed. */
function extractor(session: Session, path: string): Extractor {
  if (session.inputs.length !== 1) throw new DatasetError(path, 0, `an extractor takes one input, this model has ${session.inputs.length} (${session.inputNames.join(', ')})`);
  const [input] = session.inputs;
  const [output] = session.outputs;
  if (input.shape.length < 1) throw new DatasetError(path, 0, `input "${input.name}" has no batch axis`);
  if (output.shape.length !== 2 || typeof output.shape[1] !== 'number') {
    throw new DatasetError(path, 0, `output "${output.name}" is [${output.shape.join(', ')}]; an extractor returns [batch, D] with D fixed`);
  }
  return { session, input: input.name, output: output.name, step: input.shape.slice(1), dim: output.shape[1] };
}

/** An item's input as float32 steps: [T, ...step] (or one step without the time axis). */
function stepsOf(file: string, arr: NpyArray, model: Extractor): { t: number; shape: number[]; data: Float32Array } {
  const rank = model.step.length;
  const timed = arr.shape.length === rank + 1;
  if (!timed && arr.shape.length !== rank) {
    throw new DatasetError(file, 0, `shape (${arr.shape.join(', ')}) fits neither one step [${model.step.join(', ')}] of the extractor's input nor T steps [T, ${model.step.join(', ')}]`);
  }
  const t = timed ? arr.shape[0] : 1;
  if (t === 0) throw new DatasetError(file, 0, 'has no time steps (first axis is 0)');
  const shape = timed ? arr.shape.slice(1) : arr.shape;
  const mismatch = matchShape(model.step, shape, new Map());
  if (mismatch) throw new DatasetError(file, 0, `a step of shape (${shape.join(', ')}) does not fit the extractor's input [${model.step.join(', ')}]: ${mismatch}`);
  const data = arr.data instanceof Float32Array ? arr.data : halvesToFloats(arr.data);
  return { t, shape, data };
}

/** Steps gathered for one run, all of one model and one step shape, possibly from several items. */
interface PendingBatch {
  model: Extractor;
  shape: number[];
  chunks: Float32Array[];
  /** Item index of each step, in order. */
  owners: number[];
}

export async function extractFeatures(o: ExtractOptions, onProgress?: (done: number, total: number) => void): Promise<ExtractSummary> {
  const t0 = performance.now();
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new RangeError(`batch must be a positive integer, got ${o.batch}`);
  if (o.models.length === 0) throw new RangeError('give at least one extractor model');
  const seen = new Set<string>();
  for (const m of o.models) {
    if (seen.has(m.mediaType)) throw new RangeError(`two extractor models for ${m.mediaType}`);
    seen.add(m.mediaType);
    if (!existsSync(m.path)) throw new RangeError(`extractor model ${m.path} does not exist`);
  }
  if (!existsSync(o.inputs)) throw new RangeError(`inputs folder ${o.inputs} does not exist`);
  const { table: items } = await readItemsCsv(join(o.dataset, 'items.csv'));
  const rows = items.ids.length;

  const runtime = new OnnxRuntime({ provider: o.provider, intraOpThreads: o.threads, spinning: false });
  const byPath = new Map<string, Extractor>();
  try {
    for (const m of o.models) {
      if (!byPath.has(m.path)) byPath.set(m.path, extractor(await load(runtime, m.path), m.path));
    }
    const modelFor = (media: MediaType) => {
      const m = o.models.find((x) => x.mediaType === media) ?? o.models.find((x) => x.mediaType === 'all');
      return m && byPath.get(m.path);
    };
    const dims: Partial<Record<MediaType, number>> = {};
    for (const media of MEDIA_TYPES) {
      const m = modelFor(media);
      if (m) dims[media] = m.dim;
    }
    const width = Math.max(...Object.values(dims));
    const dtype = o.dtype === 'auto' ? autoFeatureDtype(rows, width) : o.dtype;
    const file = featurePath(o.dataset, o.modality);
    mkdirSync(join(o.dataset, 'features'), { recursive: true });
    const writer = new NpyWriter(`${file}.partial`, dtype, rows, width);

    const extracted: Record<MediaType, number> = { video: 0, image: 0 };
    let missing = 0;
    let allZero = 0;
    let steps = 0;
    let runs = 0;
    // Sums of each unfinished item's step outputs and the steps still to come; rows are written in item order.
    const sums = new Map<number, { sum: Float32Array; left: number; t: number }>();
    const done = new Map<number, Float32Array | null>();
    let written = 0;
    const zeros = new Float32Array(width);
    // An item is done when its last step has run, or at once when it has no input (so possibly before an earlier
    // item): rows wait in `done` until every row before them is written.
    const finish = (item: number, row: Float32Array | null) => {
      done.set(item, row);
      while (written < rows && done.has(written)) {
        const next = done.get(written);
        done.delete(written);
        writer.writeFloats(next ?? zeros);
        written++;
        onProgress?.(written, rows);
      }
    };

    let pending: PendingBatch | null = null;
    const run = async () => {
      if (!pending) return;
      const { model, shape, chunks, owners } = pending;
      pending = null;
      const n = owners.length;
      const data = chunks.length === 1 ? chunks[0] : concat(chunks);
      const out = (await model.session.run({ [model.input]: { data, dims: [n, ...shape] } }, [model.output]))[model.output];
      runs++;
      if (out.dims[0] !== n || out.dims[1] !== model.dim) throw new Error(`${model.session.label}: output [${out.dims.join(', ')}] for ${n} steps, expected [${n}, ${model.dim}]`);
      for (let r = 0; r < n; r++) {
        const item = owners[r];
        const acc = sums.get(item)!;
        const base = r * model.dim;
        for (let k = 0; k < model.dim; k++) acc.sum[k] += out.data[base + k];
        if (--acc.left > 0) continue;
        sums.delete(item);
        let nonZero = false;
        for (let k = 0; k < model.dim; k++) {
          const v = acc.sum[k] / acc.t;
          if (!Number.isFinite(v)) throw new DatasetError(inputPath(o.inputs, items.ids[item]), 0, `the extractor's output for item "${items.ids[item]}" is not finite (dimension ${k})`);
          acc.sum[k] = v;
          nonZero ||= v !== 0;
        }
        if (!nonZero) allZero++;
        finish(item, acc.sum);
      }
    };

    try {
      // Item i's input (null where it has none) and its file size. The next items' files are being read while this
      // one's steps run, up to READ_AHEAD files and READ_AHEAD_BYTES: the reads go to libuv's threads and overlap
      // onnxruntime's runs.
      const read = (i: number): { input: Promise<NpyArray> | null; bytes: number } => {
        const path = inputPath(o.inputs, items.ids[i]);
        const bytes = modelFor(MEDIA_TYPES[items.mediaType[i]]) ? (statSync(path, { throwIfNoEntry: false })?.size ?? -1) : -1;
        if (bytes < 0) return { input: null, bytes: 0 };
        const input = readNpy(path);
        input.catch(() => {}); // awaited below; this only keeps a failure that is never reached from being unhandled
        return { input, bytes };
      };
      const ahead: ReturnType<typeof read>[] = [];
      let next = 0;
      let aheadBytes = 0;
      for (let i = 0; i < rows; i++) {
        while (next < rows && (ahead.length === 0 || (ahead.length < READ_AHEAD && aheadBytes < READ_AHEAD_BYTES))) {
          const r = read(next++);
          ahead.push(r);
          aheadBytes += r.bytes;
        }
        const media = MEDIA_TYPES[items.mediaType[i]];
        const model = modelFor(media);
        const path = inputPath(o.inputs, items.ids[i]);
        const { input: reading, bytes } = ahead.shift()!;
        aheadBytes -= bytes;
        if (!model || !reading) {
          missing++;
          finish(i, null);
          continue;
        }
        const input = stepsOf(path, await reading, model);
        const stepSize = input.data.length / input.t;
        extracted[media]++;
        steps += input.t;
        // The row is `width` wide; a narrower model's output fills its left part.
        sums.set(i, { sum: new Float32Array(width), left: input.t, t: input.t });
        for (let s = 0; s < input.t; s++) {
          const sameBatch: boolean = pending !== null && pending.model === model && sameShape(pending.shape, input.shape);
          if (!sameBatch) await run();
          pending ??= { model, shape: input.shape, chunks: [], owners: [] };
          pending.chunks.push(input.data.subarray(s * stepSize, (s + 1) * stepSize));
          pending.owners.push(i);
          if (pending.owners.length >= o.batch) await run();
        }
      }
      await run(); // its last item completes the rows: finish() has written every one by now
      writer.close();
    } catch (err) {
      writer.abort();
      throw err;
    }
    renameSync(`${file}.partial`, file);
    return {
      dataset: o.dataset, modality: o.modality, file, items: rows, extracted, missing, allZero, dims, width, steps, runs, dtype,
      provider: [...byPath.values()][0].session.provider, seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    for (const m of byPath.values()) await m.session.dispose();
    await runtime.dispose();
  }
}

function concat(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
