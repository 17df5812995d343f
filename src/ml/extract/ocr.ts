/**
 * Text read from images and video frames (paper 2.2: "text read from the frames (OCR) through a text model"), with
 * tesseract.js (Apache-2.0; tesseract's LSTM engine compiled to WebAssembly) and the English LSTM model of
 * `@tesseract.js-data/eng` (4.0.0_best_int, 2.9 MB gzipped), both from node_modules.
 *
 * Offline by construction: `langPath` is the data package's folder on disk (tesseract.js fetches only when langPath is
 * a URL or unset, then from a CDN), the core wasm is `require`d from tesseract.js-core by the worker, the worker
 * script is the package's own file, and `cacheMethod: 'none'` stops it from reading or writing a traineddata cache in
 * the working directory. Images are passed as Buffers only: a string image would be read as a path or fetched as a URL.
 *
 * Each worker is a worker thread holding one tesseract instance (~65 MB resident); they are created once by `open`
 * (~1 s) and reused; `read` queues when all workers are busy. OCR is slow next to the other extractors: measured on
 * 2 shared cores, 120-330 ms per 640x360 image on one worker, ~55 ms per image with two workers reading at once
 * (test/ml/extract/ocr.test.ts reports the figure on the machine it runs on).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Tesseract from 'tesseract.js';

export type OcrErrorCode =
  /** The trained data or the tesseract files are missing from node_modules. */
  | 'NOT_INSTALLED'
  /** Not a PNG / JPEG / WebP / BMP / TIFF Buffer. */
  | 'BAD_IMAGE'
  /** Tesseract failed on the image (e.g. a corrupt file with a valid signature). */
  | 'OCR_FAILED'
  | 'CLOSED'
  | 'BAD_PARAM';

export class OcrError extends Error {
  override readonly name = 'OcrError';
  constructor(
    readonly code: OcrErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface OcrOptions {
  /** Worker threads, each with its own tesseract instance (default 1). */
  workers?: number;
  /**
   * Words recognised with a confidence below this (0-100) are dropped: on photos and video frames tesseract reads
   * texture as short low-confidence "words", which would only add noise to the text feature (default 60).
   */
  minWordConfidence?: number;
}

export interface OcrResult {
  /** The words kept, a line per text line, words separated by one space; '' when nothing was read. */
  text: string;
  /** Mean confidence of the words kept, in [0, 1]; 0 when none. */
  confidence: number;
}

const require = createRequire(import.meta.url);

/** The folders tesseract.js must read from; throws NOT_INSTALLED when one is missing (rather than downloading). */
export function ocrPaths(): { langPath: string; workerPath: string } {
  try {
    const langPath = join(dirname(require.resolve('@tesseract.js-data/eng/package.json')), '4.0.0_best_int');
    const workerPath = join(dirname(require.resolve('tesseract.js')), 'worker-script', 'node', 'index.js');
    require.resolve('tesseract.js-core/tesseract-core-lstm.wasm');
    for (const file of [join(langPath, 'eng.traineddata.gz'), workerPath]) {
      if (!existsSync(file)) throw new Error(`${file} is missing`);
    }
    return { langPath, workerPath };
  } catch (err) {
    throw new OcrError('NOT_INSTALLED', `OCR needs tesseract.js, tesseract.js-core and @tesseract.js-data/eng installed: ${(err as Error).message}`);
  }
}

const SIGNATURES: readonly (readonly number[])[] = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x42, 0x4d], // BMP
  [0x49, 0x49, 0x2a, 0x00], // TIFF little-endian
  [0x4d, 0x4d, 0x00, 0x2a], // TIFF big-endian
];

function isImage(buf: Buffer): boolean {
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') return true;
  return SIGNATURES.some((sig) => buf.length >= sig.length && sig.every((b, i) => buf[i] === b));
}

interface Job {
  image: Buffer;
  resolve: (r: OcrResult) => void;
  reject: (e: Error) => void;
}

export class OcrReader {
  private readonly idle: Tesseract.Worker[];
  private readonly queue: Job[] = [];
  /** Reads in flight, so that close() can fail them: a terminated worker never answers. */
  private readonly running = new Set<Job>();
  /** Their tesseract calls, which close() lets finish: tesseract.js posts to a terminated worker unhandled. */
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;

  private constructor(
    private readonly all: Tesseract.Worker[],
    private readonly minWordConfidence: number,
  ) {
    this.idle = [...all];
  }

  static async open(opts: OcrOptions = {}): Promise<OcrReader> {
    const workers = opts.workers ?? 1;
    const minWordConfidence = opts.minWordConfidence ?? 60;
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new OcrError('BAD_PARAM', `workers must be an integer in [1, 64], got ${workers}`);
    if (!(minWordConfidence >= 0 && minWordConfidence <= 100)) throw new OcrError('BAD_PARAM', `minWordConfidence must be in [0, 100], got ${minWordConfidence}`);
    const { langPath, workerPath } = ocrPaths();
    const options: Partial<Tesseract.WorkerOptions> = {
      langPath,
      workerPath,
      gzip: true,
      cacheMethod: 'none',
      logger: () => undefined,
      // Without a handler tesseract.js rethrows a failed job inside its message listener: an uncaught exception.
      errorHandler: () => undefined,
    };
    const started = await Promise.allSettled(Array.from({ length: workers }, () => Tesseract.createWorker('eng', Tesseract.OEM.LSTM_ONLY, options)));
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((w) => w.terminate()));
      throw new OcrError('NOT_INSTALLED', `tesseract could not start: ${String(failed.reason?.message ?? failed.reason)}`);
    }
    try {
      // Decoded frames carry no resolution; tesseract would warn per image and assume 70 dpi anyway.
      await Promise.all(ok.map((w) => w.setParameters({ user_defined_dpi: '70' })));
    } catch (err) {
      await Promise.all(ok.map((w) => w.terminate()));
      throw new OcrError('NOT_INSTALLED', `tesseract could not be configured: ${String((err as Error)?.message ?? err)}`);
    }
    return new OcrReader(ok, minWordConfidence);
  }

  get workers(): number {
    return this.all.length;
  }

  /** The text in an image (PNG, JPEG, WebP, BMP or TIFF bytes). */
  read(image: Buffer): Promise<OcrResult> {
    if (this.closed) return Promise.reject(new OcrError('CLOSED', 'the OCR reader is closed'));
    if (!Buffer.isBuffer(image)) return Promise.reject(new OcrError('BAD_IMAGE', 'OCR takes the image file as a Buffer'));
    if (!isImage(image)) return Promise.reject(new OcrError('BAD_IMAGE', `not a PNG, JPEG, WebP, BMP or TIFF image (${image.length} bytes)`));
    return new Promise((resolve, reject) => {
      this.queue.push({ image, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.add(job);
      const done = this.recognise(worker, job.image).then(job.resolve, job.reject).finally(() => {
        this.running.delete(job);
        this.inflight.delete(done);
        this.idle.push(worker);
        if (!this.closed) this.pump();
      });
      this.inflight.add(done);
    }
  }

  private async recognise(worker: Tesseract.Worker, image: Buffer): Promise<OcrResult> {
    let page: Tesseract.Page;
    try {
      page = (await worker.recognize(image, {}, { text: false, blocks: true })).data;
    } catch (err) {
      throw new OcrError('OCR_FAILED', `tesseract could not read the image: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
    }
    const lines: string[] = [];
    let confidence = 0;
    let kept = 0;
    for (const block of page.blocks ?? []) {
      for (const para of block.paragraphs) {
        for (const line of para.lines) {
          const words = line.words.filter((w) => w.confidence >= this.minWordConfidence && /[\p{L}\p{N}]/u.test(w.text));
          for (const w of words) confidence += w.confidence;
          kept += words.length;
          if (words.length) lines.push(words.map((w) => w.text.trim()).join(' '));
        }
      }
    }
    return { text: lines.join('\n'), confidence: kept ? confidence / kept / 100 : 0 };
  }

  /** Stops the workers; queued and running reads fail with CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of [...this.queue.splice(0), ...this.running]) job.reject(new OcrError('CLOSED', 'the OCR reader was closed before this image was read'));
    this.running.clear();
    await Promise.all([...this.inflight]);
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
