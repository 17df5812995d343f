/**
 * The content extractor (paper 2.2): a decoded media item and its post's text in, content features out, with memer's
 * built-in models. One interface for serving (registerPost's `media`) and for `memer extract --media`.
 *
 *   visual  images: the visual model (visual.ts, MobileNetV2's pooled penultimate layer, 1280-d) on the 224x224 image;
 *           videos: every sampled frame (MediaSettings.fps a second) through it, averaged per second, then the
 *           seconds averaged over the video, as the paper pools its frame features
 *   audio   a video's audio track, 16 kHz mono, through the log-mel embedding (audio.ts, 128-d); on worker threads
 *           (audio-thread.ts). None for a video without a track or with a silent one
 *   text    the post's text, its tags and the text read (OCR, ocr.ts) from the image or a few frames spread over the
 *           video, through the installation's text model (text-model.ts); none without a text model, and no OCR then
 *           (nothing would read it)
 *
 * What stays off the event loop: onnxruntime runs in its own threads, decoding is in libvips' threads and ffmpeg
 * children (src/media), tesseract in its worker threads, the audio DSP in audio-thread.ts; what is left here is
 * pooling and the text model's hashing, well under a millisecond per item. A modality not asked for (`want`) is not
 * computed, and its decoding is skipped where the decoder allows it (a video's audio, OCR frames).
 */
import { readFileSync } from 'node:fs';
import type { DecodedMedia, DecodeMediaOptions } from '../../media/decode.js';
import { readOnnxMetadata } from '../graph/onnx.js';
import { OnnxRuntime, type ProviderChoice } from '../onnx/runtime.js';
import { AUDIO_DIM, type AudioStatus } from './audio.js';
import { AudioThreads } from './audio-thread.js';
import { OcrError, OcrReader } from './ocr.js';
import { TEXT_MODEL_KIND, TextEmbedder, TextModelError, type TextDoc } from './text-model.js';
import { VISUAL_MODEL, VisualExtractor } from './visual.js';

/** The modalities content extraction can produce (aux is the uploader's own). */
export const CONTENT_MODALITIES = ['visual', 'audio', 'text'] as const;
export type ContentModality = (typeof CONTENT_MODALITIES)[number];

export interface ContentDims {
  visual: number;
  audio: number;
  /** The text model's width; null without a text model. */
  text: number | null;
}

/** The built-in widths without opening anything (the text model's, when there is one, is read from its file). */
export const BUILTIN_DIMS = Object.freeze({ visual: VISUAL_MODEL.dim, audio: AUDIO_DIM });

/**
 * A text model file's width from its metadata (text-model.ts writes `memer.text.dim`), without a session: serving
 * needs the widths before the first upload. Throws TextModelError BAD_MODEL for a file that is not a text model.
 */
export function textModelDim(path: string): number {
  let meta: Record<string, string>;
  try {
    meta = readOnnxMetadata(new Uint8Array(readFileSync(path)));
  } catch (err) {
    throw new TextModelError('BAD_MODEL', `${path}: not an ONNX model (${(err as Error).message})`);
  }
  const dim = Number(meta['memer.text.dim']);
  if (meta.purpose !== TEXT_MODEL_KIND || !Number.isInteger(dim) || dim < 1) throw new TextModelError('BAD_MODEL', `${path} is not a memer text model`);
  return dim;
}

export interface ContentExtractorOptions {
  provider?: ProviderChoice;
  /** onnxruntime intra-op threads of the visual and text models (0: one per core). Default 0. */
  threads?: number;
  /** Share a runtime instead of owning one (close() then leaves it open). */
  runtime?: OnnxRuntime;
  /** Keeps the converted visual model across processes (visual.ts). */
  cacheDir?: string;
  /** The text model (a path or its bytes); absent: no text feature. */
  textModel?: string | Uint8Array | null;
  /**
   * Read text in images and frames: true (default) for the text feature, so only with a text model; 'always' also
   * without one (`ocrText`, for a text model trained afterwards: memer extract --train-text); false never.
   */
  ocr?: boolean | 'always';
  /** Tesseract workers (each ~65 MB). Default 1. */
  ocrWorkers?: number;
  /** Frames read by OCR per video. Default 3. */
  ocrFrames?: number;
  /** Video frames sampled per second. Default 1. */
  fps?: number;
  /** Audio worker threads. Default 1. */
  audioWorkers?: number;
  /** Where the runtime's one provider line goes (an owned runtime; default stderr). */
  log?: (line: string) => void;
}

export interface ContentInfo {
  kind: DecodedMedia['kind'];
  /** Frames through the visual model (1 for an image). */
  frames: number;
  /** Seconds a video's frames cover (0 for an image). */
  seconds: number;
  /** The audio track's outcome: null when not asked for or the file has none. */
  audio: AudioStatus | null;
}

export interface ContentFeatures {
  visual?: Float32Array;
  audio?: Float32Array;
  text?: Float32Array;
  /** The text read from the media ('' when OCR did not run or read nothing). */
  ocrText: string;
  info: ContentInfo;
}

/**
 * Mean over seconds of the mean over each second's frames: `vectors[i]` was sampled in second `frameSecond[i]`.
 * Seconds without a frame (a rate under 1 fps) do not count.
 */
export function poolPerSecond(vectors: readonly Float32Array[], frameSecond: ArrayLike<number>, dim: number): Float32Array {
  if (vectors.length === 0) throw new RangeError('no frame to pool');
  if (frameSecond.length !== vectors.length) throw new RangeError(`${vectors.length} frames but ${frameSecond.length} frame seconds`);
  const sums = new Map<number, { sum: Float64Array; n: number }>();
  vectors.forEach((v, i) => {
    let s = sums.get(frameSecond[i]);
    if (!s) sums.set(frameSecond[i], (s = { sum: new Float64Array(dim), n: 0 }));
    for (let k = 0; k < dim; k++) s.sum[k] += v[k];
    s.n++;
  });
  const out = new Float64Array(dim);
  for (const { sum, n } of sums.values()) for (let k = 0; k < dim; k++) out[k] += sum[k] / n;
  return Float32Array.from(out, (x) => x / sums.size);
}

/** The text the text model reads: the post's text, then the text read from its media; the tags as the model took them. */
export function contentDoc(doc: TextDoc | null, ocrText: string): TextDoc {
  const own = typeof doc === 'string' ? { text: doc, tags: [] } : { text: doc?.text ?? '', tags: doc?.tags ?? [] };
  return { text: [own.text, ocrText].filter((t) => t && t.trim()).join('\n'), tags: own.tags };
}

const isZero = (v: Float32Array) => v.every((x) => x === 0);

export class ContentExtractor {
  private closed = false;
  /** Visual runs go one at a time: concurrent runs on one CPU session contend for its threads (slower in total). */
  private visualTurn: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly visual: VisualExtractor,
    private readonly text: TextEmbedder | null,
    private readonly ocr: OcrReader | null,
    private readonly audio: AudioThreads,
    private readonly runtime: OnnxRuntime,
    private readonly ownsRuntime: boolean,
    readonly fps: number,
    private readonly ocrFrames: number,
  ) {}

  static async open(opts: ContentExtractorOptions = {}): Promise<ContentExtractor> {
    const fps = opts.fps ?? 1;
    if (!(Number.isFinite(fps) && fps > 0 && fps <= 60)) throw new RangeError(`fps must be in (0, 60], got ${fps}`);
    const ocrFrames = opts.ocrFrames ?? 3;
    if (!Number.isSafeInteger(ocrFrames) || ocrFrames < 1 || ocrFrames > 100) throw new RangeError(`ocrFrames must be an integer in [1, 100], got ${ocrFrames}`);
    const runtime = opts.runtime ?? new OnnxRuntime({ provider: opts.provider ?? 'cpu', intraOpThreads: opts.threads ?? 0, spinning: false, ...(opts.log ? { log: opts.log } : {}) });
    const opened: { close(): Promise<void> }[] = [];
    try {
      const visual = await VisualExtractor.open({ runtime, cacheDir: opts.cacheDir });
      opened.push(visual);
      const text = opts.textModel ? await TextEmbedder.open(runtime, opts.textModel) : null;
      if (text) opened.push({ close: () => text.dispose() });
      // OCR only feeds the text feature: without a text model it would read for nothing.
      const ocr = (text && opts.ocr !== false) || opts.ocr === 'always' ? await OcrReader.open({ workers: opts.ocrWorkers ?? 1 }) : null;
      if (ocr) opened.push(ocr);
      return new ContentExtractor(visual, text, ocr, new AudioThreads(opts.audioWorkers ?? 1), runtime, !opts.runtime, fps, ocrFrames);
    } catch (err) {
      for (const o of opened.reverse()) await o.close();
      if (!opts.runtime) await runtime.dispose();
      throw err;
    }
  }

  get dims(): ContentDims {
    return { visual: this.visual.dim, audio: AUDIO_DIM, text: this.text?.dim ?? null };
  }

  /** The provider the visual model runs on. */
  get provider(): string {
    return this.visual.provider;
  }

  /** The modalities this installation's extractors produce. */
  get modalities(): ContentModality[] {
    return this.text ? ['visual', 'audio', 'text'] : ['visual', 'audio'];
  }

  /** Whether OCR runs for the text feature. */
  get reads(): boolean {
    return this.ocr !== null;
  }

  /** What decodeMedia must produce for `want`: the model's image size, the frame rate, the audio track, OCR frames. */
  decodeOptions(want: ReadonlySet<ContentModality>): Pick<DecodeMediaOptions, 'size' | 'fps' | 'audio' | 'ocr'> {
    return {
      size: this.visual.inputSize,
      fps: this.fps,
      audio: want.has('audio'),
      ocr: this.ocr && want.has('text') ? { frames: this.ocrFrames } : false,
    };
  }

  /**
   * The features of one decoded item (decoded with decodeOptions(want)). A modality is absent when not asked for,
   * when this installation cannot make it (text without a text model), or when the item has none (a video without an
   * audio track, a silent one, a text without a token): absent, never an all-zero vector.
   */
  async extract(media: DecodedMedia, doc: TextDoc | null, want: ReadonlySet<ContentModality> = new Set(CONTENT_MODALITIES)): Promise<ContentFeatures> {
    if (this.closed) throw new Error('the content extractor is closed');
    if (media.kind === 'audio') throw new RangeError('audio-only media have no visual content: give a video or an image');
    const out: ContentFeatures = { ocrText: '', info: { kind: media.kind, frames: 0, seconds: 0, audio: null } };
    const audio = want.has('audio') && media.kind === 'video' && media.audio ? this.audio.embed(media.audio) : null;
    audio?.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    const ocr = want.has('text') ? this.read(media.ocrPngs) : null;
    ocr?.catch(() => undefined);
    if (want.has('visual')) {
      if (media.kind === 'image') {
        [out.visual] = await this.embedImages([media.image]);
        out.info.frames = 1;
      } else {
        out.visual = poolPerSecond(await this.embedImages(media.frames), media.frameSecond, this.visual.dim);
        out.info.frames = media.frames.length;
      }
    }
    if (media.kind === 'video') out.info.seconds = media.seconds;
    if (audio) {
      const a = await audio;
      out.info.audio = a.status;
      if (a.status === 'ok') out.audio = a.vector;
    }
    if (ocr) out.ocrText = await ocr;
    if (this.text && want.has('text')) {
      const [v] = await this.text.embed([contentDoc(doc, out.ocrText)]);
      if (!isZero(v)) out.text = v;
    }
    return out;
  }

  /** Text features of posts without media (batch extraction of items without a file): null without a text model. */
  async embedTexts(docs: readonly TextDoc[]): Promise<(Float32Array | undefined)[] | null> {
    if (!this.text) return null;
    return (await this.text.embed(docs)).map((v) => (isZero(v) ? undefined : v));
  }

  private embedImages(images: Parameters<VisualExtractor['embed']>[0]): Promise<Float32Array[]> {
    const run = this.visualTurn.then(() => this.visual.embed(images));
    this.visualTurn = run.catch(() => undefined);
    return run;
  }

  /** The text in the OCR images, distinct lines in reading order ('' without OCR). */
  private async read(pngs: readonly Buffer[]): Promise<string> {
    if (!this.ocr || pngs.length === 0) return '';
    const ocr = this.ocr;
    // All at once: the reader queues them over its workers.
    const texts = await Promise.all(
      pngs.map((png) =>
        ocr.read(png).then(
          (r) => r.text,
          (err: unknown) => {
            // A frame tesseract cannot read (the decoder made it, so it is a valid PNG) just has no text.
            if (err instanceof OcrError && err.code === 'OCR_FAILED') return '';
            throw err;
          },
        ),
      ),
    );
    // Distinct lines: a caption shown over the whole video would otherwise count once per frame read.
    const lines = new Set(texts.flatMap((t) => t.split('\n').map((l) => l.trim()).filter(Boolean)));
    return [...lines].join('\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.audio.close();
    await this.ocr?.close();
    await this.text?.dispose();
    await this.visual.close();
    if (this.ownsRuntime) await this.runtime.dispose();
  }
}
