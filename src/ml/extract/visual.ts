/**
 * The default visual extractor (paper 2.2, "the image model's penultimate layer"): nsfwjs's MobileNetV2, converted
 * from its TF.js layers model to ONNX by our converter (tfjs/), cut at `flatten_1`, the 1280-d global average pool of
 * the MobileNetV2 backbone (ImageNet weights, its last blocks fine-tuned by nsfwjs), before nsfwjs's 256-128-5
 * classifier head. It runs through the project's onnxruntime owner (src/ml/onnx), so the CUDA provider serves it like
 * MEMER.
 *
 * Preprocessing is nsfwjs's own (core.js `infer`): RGB divided by 255, i.e. [0, 1], no mean or std; `RgbImage` is
 * already in that range, so pixels go in as they are. Resizing to 224x224 is the caller's (the media decoder's).
 *
 * The conversion runs once per process (about 0.3 s) and its bytes are shared; with `cacheDir` they are also written to
 * and read from a file keyed by the nsfwjs version and the converter version.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../../media/image-types.js';
import { readOnnxMetadata } from '../graph/onnx.js';
import { OnnxRuntime, type ProviderChoice } from '../onnx/runtime.js';
import type { ProviderName, Session } from '../onnx/session.js';
import { loadNsfwjsModel, nsfwjsPackage } from './nsfwjs-models.js';
import { CONVERTER_VERSION, convertTfjsModel } from './tfjs/convert.js';

export const VISUAL_MODEL = Object.freeze({
  id: 'nsfwjs-mobilenet_v2',
  description: 'MobileNetV2 from nsfwjs, pooled penultimate layer',
  package: 'nsfwjs',
  model: 'mobilenet_v2' as const,
  /** the layer cut at: global average pool of the last 7x7x1280 feature map, flattened */
  featureLayer: 'flatten_1',
  dim: 1280,
  inputSize: 224,
});

export type VisualErrorCode =
  /** An image that is not inputSize x inputSize RGB with width * height * 3 values. */
  | 'BAD_IMAGE'
  /** embed() after close(). */
  | 'CLOSED';

export class VisualExtractorError extends Error {
  override readonly name = 'VisualExtractorError';
  constructor(
    readonly code: VisualErrorCode,
    message: string,
    /** the offending image's position in the batch */
    readonly index?: number,
  ) {
    super(message);
  }
}

export interface VisualExtractorOptions {
  provider?: ProviderChoice;
  /** onnxruntime intra-op threads (0 or absent: its default) */
  threads?: number;
  /** a folder to keep the converted ONNX model in across processes */
  cacheDir?: string;
  /** share a runtime (and its session) instead of owning one; close() then leaves it open */
  runtime?: OnnxRuntime;
  /** images per onnxruntime run (default 32): larger batches are split */
  maxBatch?: number;
}

let converted: Promise<Uint8Array> | undefined;

function cacheFile(cacheDir: string): string {
  return join(cacheDir, `${VISUAL_MODEL.id}-${nsfwjsPackage().version}-c${CONVERTER_VERSION}-${VISUAL_MODEL.featureLayer}.onnx`);
}

function convert(): Uint8Array {
  return convertTfjsModel(loadNsfwjsModel(VISUAL_MODEL.model), {
    outputs: [VISUAL_MODEL.featureLayer],
    graphName: VISUAL_MODEL.id,
    metadata: { 'memer.extractor': VISUAL_MODEL.id, 'memer.extractor.dim': String(VISUAL_MODEL.dim), 'nsfwjs.version': nsfwjsPackage().version },
  }).onnx;
}

/** The extractor's ONNX model: converted once per process, or read from (and written to) `cacheDir`. */
export function visualModelOnnx(cacheDir?: string): Promise<Uint8Array> {
  if (cacheDir) {
    const file = cacheFile(cacheDir);
    try {
      const bytes = new Uint8Array(readFileSync(file));
      // A file cut short by a crash fails to decode or lacks the metadata: convert again.
      if (readOnnxMetadata(bytes)['memer.extractor'] === VISUAL_MODEL.id) return Promise.resolve(bytes);
    } catch {
      // absent or unreadable: convert
    }
    return convertOnce().then((bytes) => {
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
      return bytes;
    });
  }
  return convertOnce();
}

/** One conversion per process, shared by concurrent callers; a failed one is forgotten so that a later call retries. */
function convertOnce(): Promise<Uint8Array> {
  if (!converted) {
    const p = Promise.resolve().then(convert);
    converted = p;
    p.catch(() => {
      if (converted === p) converted = undefined;
    });
  }
  return converted;
}

export class VisualExtractor {
  readonly dim = VISUAL_MODEL.dim;
  readonly inputSize = VISUAL_MODEL.inputSize;
  private closed = false;
  private readonly input: string;
  private readonly output: string;

  private constructor(
    private readonly session: Session,
    private readonly runtime: OnnxRuntime,
    private readonly ownsRuntime: boolean,
    private readonly maxBatch: number,
  ) {
    this.input = session.inputNames[0];
    this.output = session.outputNames[0];
  }

  static async open(opts: VisualExtractorOptions = {}): Promise<VisualExtractor> {
    const maxBatch = opts.maxBatch ?? 32;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    const bytes = await visualModelOnnx(opts.cacheDir);
    if (opts.runtime) return new VisualExtractor(await opts.runtime.load(`extractor:${VISUAL_MODEL.id}`, bytes), opts.runtime, false, maxBatch);
    const runtime = new OnnxRuntime({ provider: opts.provider ?? 'cpu', intraOpThreads: opts.threads ?? 0 });
    try {
      return new VisualExtractor(await runtime.createSession(bytes, `extractor:${VISUAL_MODEL.id}`), runtime, true, maxBatch);
    } catch (e) {
      await runtime.dispose();
      throw e;
    }
  }

  /** The provider the session runs on. */
  get provider(): ProviderName {
    return this.session.provider;
  }

  /** One `dim`-vector per image, in order; images are batched into runs of up to maxBatch. */
  async embed(images: readonly RgbImage[]): Promise<Float32Array[]> {
    if (this.closed) throw new VisualExtractorError('CLOSED', 'the visual extractor is closed');
    const s = this.inputSize;
    const pixels = s * s * 3;
    images.forEach((img, i) => {
      if (img.width !== s || img.height !== s) throw new VisualExtractorError('BAD_IMAGE', `image ${i} is ${img.width}x${img.height}, the visual extractor takes ${s}x${s} (resize first)`, i);
      if (!(img.data instanceof Float32Array) || img.data.length !== pixels) {
        throw new VisualExtractorError('BAD_IMAGE', `image ${i} has ${img.data?.length} values, ${s}x${s} RGB needs ${pixels}`, i);
      }
    });
    const out: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.maxBatch) {
      const batch = images.slice(start, start + this.maxBatch);
      // Images are HWC in [0, 1], which is both the model's NHWC layout and nsfwjs's preprocessing.
      const data = batch.length === 1 ? batch[0].data : new Float32Array(batch.length * pixels);
      if (batch.length > 1) batch.forEach((img, k) => data.set(img.data, k * pixels));
      const result = await this.session.run({ [this.input]: { data, dims: [batch.length, s, s, 3] } }, [this.output]);
      const y = result[this.output].data;
      for (let k = 0; k < batch.length; k++) out.push(y.slice(k * this.dim, (k + 1) * this.dim));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.ownsRuntime) return;
    await this.session.dispose();
    await this.runtime.dispose();
  }
}
