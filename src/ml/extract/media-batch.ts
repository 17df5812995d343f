/**
 * `memer extract DIR --media RAW`: the built-in content extractors (content.ts) over a folder of media files, one per
 * item of DIR/items.csv, named `<item_id>.<ext>` (the id URI-encoded, as extract.ts names its inputs), written as
 * DIR/features/visual.npy, audio.npy and text.npy, ready for `memer import` and `memer evaluate`.
 *
 *   visual, audio  from the item's file (audio for videos with a sound track); all-zero rows (missing) for items
 *                  without a file, or whose file was refused (corrupt, unsupported...: counted and listed, the run goes on)
 *   text           for every item, file or not: its text and tags plus the text read (OCR) from its file, through the
 *                  text model given, or one trained on these texts (`trainText`, written to DIR/text-model.onnx); no
 *                  text.npy without either
 *
 * Parallel: `jobs` items are decoded at once (libvips threads, ffmpeg children); the visual model runs one item at a
 * time on all of onnxruntime's threads (content.ts), the audio DSP on worker threads. Resumable: each finished item is
 * appended to DIR/features/.media-extract.jsonl (vectors packed as "f32:" base64), and a new run with the same items
 * and settings skips those; a line cut short by an interruption is dropped. The .npy files are written under temporary
 * names and renamed only once all are complete; the sidecar is removed then. Vectors are held in memory until then
 * (~5.6 KB per item with a file).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { extname, join, resolve } from 'node:path';
import { packFloats, unpackFloats } from '../../lib/packed-floats.js';
import { autoFeatureDtype, featurePath } from '../../datasets/features.js';
import { itemTags, readItemsCsv } from '../../datasets/items.js';
import { NpyWriter, type NpyDtype } from '../../datasets/npy.js';
import { MEDIA_TYPES, type ItemTable, type Modality } from '../../datasets/types.js';
import { decodeMedia } from '../../media/decode.js';
import { isMediaError } from '../../media/errors.js';
import { DecodeLimiter } from '../../media/limiter.js';
import type { MediaLimits } from '../../media/limits.js';
import { OnnxRuntime, type ProviderChoice } from '../onnx/runtime.js';
import { BUILTIN_DIMS, ContentExtractor, contentDoc, type ContentModality } from './content.js';
import { TextEmbedder, TextModelError, textModelToOnnx, type TextDoc } from './text-model.js';
import { trainTextModel } from './text-train.js';
import { VISUAL_MODEL } from './visual.js';

/** File extensions looked for (the bytes decide what a file is; these only find it). */
export const MEDIA_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'avif', 'tif', 'tiff', 'bmp', 'mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi', 'ogv', 'mpg', 'mpeg', 'ts', 'flv', '3gp'] as const;

const SIDECAR_VERSION = 1;
/** Failures listed in the summary (all are counted). */
const LISTED_FAILURES = 20;

export interface MediaBatchOptions {
  dataset: string;
  /** The folder of media files. */
  media: string;
  limits: MediaLimits;
  /** Video frames sampled per second. */
  fps: number;
  /** Items decoded at once (default: one per core). */
  jobs?: number;
  provider: ProviderChoice;
  /** onnxruntime intra-op threads (0: one per core). */
  threads: number;
  /** A text model file to embed the texts with. */
  textModel?: string | null;
  /** Train a text model on the items' texts (and OCR text) instead, written to DIR/text-model.onnx. */
  trainText?: boolean;
  /** Read text in images and frames for the text feature (only with a text model, given or trained). Default true. */
  ocr?: boolean;
  dtype: NpyDtype | 'auto';
  /** Ignore what an earlier interrupted run finished. */
  restart?: boolean;
}

export interface MediaFailure {
  id: string;
  /** The MediaError code (CORRUPT, UNSUPPORTED, TOO_LONG, ...). */
  reason: string;
  message: string;
}

export interface MediaBatchSummary {
  dataset: string;
  items: number;
  /** Items with a media file. */
  withMedia: number;
  /** Items given a row per modality. */
  extracted: Partial<Record<ContentModality, number>>;
  /** Files refused, and the first of them. */
  failed: number;
  failures: MediaFailure[];
  /** Items taken from an interrupted run's sidecar. */
  resumed: number;
  files: Partial<Record<ContentModality, string>>;
  dims: Partial<Record<ContentModality, number>>;
  /** The text model used (given or trained), or null. */
  textModel: string | null;
  trainedTextModel: boolean;
  /** Video seconds and frames through the visual model, this run. */
  videoSeconds: number;
  frames: number;
  provider: string;
  jobs: number;
  seconds: number;
}

/** One finished item in the sidecar. */
interface Done {
  i: number;
  v?: string;
  a?: string;
  /** Text read from the file. */
  t?: string;
  err?: { reason: string; message: string };
}

/** `<encoded id>.<ext>` files of the folder, by item id. */
export function mediaFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const ext = extname(name).slice(1).toLowerCase();
    if (!(MEDIA_EXTENSIONS as readonly string[]).includes(ext)) continue;
    const stem = name.slice(0, -ext.length - 1);
    let id: string;
    try {
      id = decodeURIComponent(stem);
    } catch {
      id = stem;
    }
    const other = out.get(id);
    if (other) throw new RangeError(`${dir}: two files for item "${id}" (${other} and ${name}); keep one`);
    out.set(id, name);
  }
  return out;
}

/** What the sidecar's lines were made with: a run resumes only on the same items and settings. */
function sidecarHeader(items: ItemTable, files: ReadonlyMap<string, string>, o: MediaBatchOptions, ocr: boolean): string {
  // The items and the files they have: adding or renaming a file starts over.
  const ids = createHash('sha256').update(items.ids.map((id) => `${id}\t${files.get(id) ?? ''}`).join('\n')).digest('hex');
  return JSON.stringify({ version: SIDECAR_VERSION, ids, media: resolve(o.media), visual: VISUAL_MODEL.id, fps: o.fps, limits: o.limits, ocr });
}

/** The finished items of an earlier run, or none (a different header starts over); a torn last line is cut off. */
function readSidecar(path: string, header: string): Map<number, Done> {
  const done = new Map<number, Done>();
  if (!existsSync(path)) return done;
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines[0] !== header) {
    rmSync(path);
    return done;
  }
  let good = lines[0].length + 1;
  for (const line of lines.slice(1)) {
    if (!line) break;
    let d: Done;
    try {
      d = JSON.parse(line) as Done;
    } catch {
      break; // the line being written when the run stopped
    }
    done.set(d.i, d);
    good += Buffer.byteLength(line) + 1;
  }
  if (good < Buffer.byteLength(text)) truncateSync(path, good);
  return done;
}

/** Writes rows (null: all-zero) to `file` through a temporary name; returns the temporary name. */
function writeMatrix(file: string, rows: readonly (Float32Array | null | undefined)[], dim: number, dtype: NpyDtype | 'auto'): string {
  const partial = `${file}.partial`;
  const writer = new NpyWriter(partial, dtype === 'auto' ? autoFeatureDtype(rows.length, dim) : dtype, rows.length, dim);
  const zeros = new Float32Array(dim);
  try {
    for (const r of rows) writer.writeFloats(r ?? zeros);
    writer.close();
  } catch (err) {
    writer.abort();
    throw err;
  }
  return partial;
}

export async function extractMediaFeatures(o: MediaBatchOptions, onProgress?: (stage: string, done: number, total: number) => void): Promise<MediaBatchSummary> {
  const t0 = performance.now();
  const jobs = o.jobs ?? availableParallelism();
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be a positive integer, got ${jobs}`);
  if (o.textModel && o.trainText) throw new RangeError('give a text model or train one, not both');
  if (!existsSync(o.media) || !statSync(o.media).isDirectory()) throw new RangeError(`media folder ${o.media} does not exist`);
  const { table: items } = await readItemsCsv(join(o.dataset, 'items.csv'));
  const n = items.ids.length;
  const files = mediaFiles(o.media);
  const wantsText = Boolean(o.textModel || o.trainText);
  const ocr = wantsText && o.ocr !== false;

  mkdirSync(join(o.dataset, 'features'), { recursive: true });
  const sidecar = join(o.dataset, 'features', '.media-extract.jsonl');
  const header = sidecarHeader(items, files, o, ocr);
  if (o.restart) rmSync(sidecar, { force: true });
  const done = readSidecar(sidecar, header);
  const resumed = done.size;
  if (!existsSync(sidecar)) writeFileSync(sidecar, `${header}\n`);

  const runtime = new OnnxRuntime({ provider: o.provider, intraOpThreads: o.threads, spinning: false });
  const extractor = await ContentExtractor.open({ runtime, fps: o.fps, ocr: ocr ? 'always' : false, ocrWorkers: Math.max(1, Math.floor(jobs / 2)), audioWorkers: Math.max(1, Math.floor(jobs / 2)) });
  let videoSeconds = 0;
  let frames = 0;
  try {
    const limiter = new DecodeLimiter(jobs);
    const pending = items.ids.map((id, i) => i).filter((i) => files.has(items.ids[i]) && !done.has(i));
    const withMedia = items.ids.filter((id) => files.has(id)).length;
    let finished = withMedia - pending.length;
    onProgress?.('media', finished, withMedia);
    const one = async (i: number): Promise<void> => {
      const kind = MEDIA_TYPES[items.mediaType[i]];
      const want = new Set<ContentModality>(kind === 'video' ? ['visual', 'audio', 'text'] : ['visual', 'text']);
      let d: Done;
      try {
        const decoded = await decodeMedia({ path: join(o.media, files.get(items.ids[i])!) }, o.limits, { ...extractor.decodeOptions(want), expect: [kind], limiter });
        const f = await extractor.extract(decoded, null, want);
        d = { i, ...(f.visual ? { v: packFloats(f.visual, 'f32') } : {}), ...(f.audio ? { a: packFloats(f.audio, 'f32') } : {}), ...(f.ocrText ? { t: f.ocrText } : {}) };
        videoSeconds += f.info.seconds;
        frames += f.info.frames;
      } catch (err) {
        if (!isMediaError(err)) throw err;
        d = { i, err: { reason: err.code, message: err.message } };
      }
      // One line per item, appended whole: what an interruption leaves is a prefix of finished items.
      appendFileSync(sidecar, `${JSON.stringify(d)}\n`);
      done.set(i, d);
      onProgress?.('media', ++finished, withMedia);
    };
    // `jobs` items in flight; the first failure of ours (not a bad file) stops the run, the sidecar keeps the rest.
    let next = 0;
    let failure: unknown = null;
    await Promise.all(
      Array.from({ length: Math.min(jobs, pending.length) }, async () => {
        while (next < pending.length && failure === null) {
          try {
            await one(pending[next++]);
          } catch (err) {
            failure ??= err;
          }
        }
      }),
    );
    if (failure !== null) throw failure;

    // Text, for every item: its text and tags with what was read from its file.
    const docs: TextDoc[] = items.ids.map((_, i) => contentDoc({ text: items.text[i], tags: itemTags(items, i) }, done.get(i)?.t ?? ''));
    let textModel = o.textModel ? resolve(o.textModel) : null;
    let trainedTextModel = false;
    let textRows: (Float32Array | undefined)[] | null = null;
    let textDim = 0;
    if (o.trainText) {
      onProgress?.('training the text model', 0, 1);
      try {
        const model = trainTextModel(docs);
        textModel = resolve(join(o.dataset, 'text-model.onnx'));
        writeFileSync(`${textModel}.partial`, textModelToOnnx(model));
        renameSync(`${textModel}.partial`, textModel);
        trainedTextModel = true;
      } catch (err) {
        // Too little text to learn from: no text feature, as without a text model.
        if (!(err instanceof TextModelError && err.code === 'EMPTY_CORPUS')) throw err;
      }
    }
    if (textModel) {
      onProgress?.('text', 0, n);
      const embedder = await TextEmbedder.open(runtime, textModel);
      try {
        textDim = embedder.dim;
        textRows = (await embedder.embed(docs)).map((v) => (v.some((x) => x !== 0) ? v : undefined));
      } finally {
        await embedder.dispose();
      }
    }

    onProgress?.('writing', 0, 1);
    const rowsOf = (key: 'v' | 'a') => items.ids.map((_, i) => {
      const packed = done.get(i)?.[key];
      return packed ? unpackFloats(packed) : null;
    });
    const matrices: [ContentModality, (Float32Array | null | undefined)[], number][] = [
      ['visual', rowsOf('v'), BUILTIN_DIMS.visual],
      ['audio', rowsOf('a'), BUILTIN_DIMS.audio],
    ];
    if (textRows) matrices.push(['text', textRows, textDim]);
    const partials: [string, string][] = [];
    try {
      for (const [modality, rows, dim] of matrices) {
        const file = featurePath(o.dataset, modality as Modality);
        partials.push([writeMatrix(file, rows, dim, o.dtype), file]);
      }
    } catch (err) {
      for (const [partial] of partials) rmSync(partial, { force: true });
      throw err;
    }
    // Renamed together once all are complete; then the sidecar has served its purpose.
    for (const [partial, file] of partials) renameSync(partial, file);
    rmSync(sidecar, { force: true });

    const failures = [...done.values()].filter((d) => d.err).sort((a, b) => a.i - b.i);
    const count = (rows: readonly (Float32Array | null | undefined)[]) => rows.filter(Boolean).length;
    return {
      dataset: o.dataset,
      items: n,
      withMedia,
      extracted: Object.fromEntries(matrices.map(([m, rows]) => [m, count(rows)])),
      failed: failures.length,
      failures: failures.slice(0, LISTED_FAILURES).map((d) => ({ id: items.ids[d.i], reason: d.err!.reason, message: d.err!.message })),
      resumed,
      files: Object.fromEntries(matrices.map(([m]) => [m, featurePath(o.dataset, m as Modality)])),
      dims: Object.fromEntries(matrices.map(([m, , dim]) => [m, dim])),
      textModel,
      trainedTextModel,
      videoSeconds,
      frames,
      provider: extractor.provider,
      jobs,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await extractor.close();
    await runtime.dispose();
  }
}
