/**
 * Raw media in registrations (registerPost's `media`): read the file, decode it under the configured limits, run the
 * built-in content extractors (ml/extract/content.ts) and hand the upload on with its features filled in, all before
 * anything is written, so that a post is stored with its vectors or not at all. A bad file (MediaError: corrupt,
 * truncated, unsupported, too large, too many pixels, too long) is a BAD_USER_INPUT naming the problem.
 *
 * Precedence: a vector given in `features` wins for its modality; the media fill the modalities not given, and only
 * those are computed (the file is decoded and checked either way). aux never comes from media. With a text model, a
 * post without media gets its text feature from its text and tags (withText).
 *
 * Widths: each extracted modality must have the width the installation expects for the post's media type
 * (feature-widths.ts); a visual or audio mismatch (an installation on the paper's 2048-d visual features) refuses the
 * upload before its file is decoded, naming both widths; a text model of another width only leaves text out. A new installation's fallback widths are the extractors' own (fallback()).
 *
 * At most config.media.concurrency extractions run at once (reading the file, decoding, the models); more wait. The
 * extractors are opened on first use (or by warm()), once per process.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../../config/config.js';
import { AppError, badInput } from '../../errors.js';
import type { Logger } from '../../lib/logger.js';
import { decodeMedia } from '../../media/decode.js';
import { isMediaError } from '../../media/errors.js';
import { DecodeLimiter } from '../../media/limiter.js';
import { mediaLimits, type MediaLimits } from '../../media/limits.js';
import { BUILTIN_DIMS, ContentExtractor, textModelDim, type ContentDims, type ContentModality } from '../../ml/extract/content.js';
import type { FeatureRules, Fallback } from '../posts/feature-widths.js';
import type { FeatureName, PostInput } from '../posts/post.validation.js';
import { mediaTypeNames, type MediaType } from '../types.js';
import { checkMedia, readMedia, type MediaInput } from './media-input.js';

/** A registration that may carry raw media. */
export interface MediaPostInput extends PostInput {
  media?: MediaInput | null;
}

/** What the built-in extractors make for each media type (images have no audio). */
const PRODUCED: Record<MediaType, readonly ContentModality[]> = { VIDEO: ['visual', 'audio', 'text'], IMAGE: ['visual', 'text'] };

/** The text model the installation uses: MEMER_TEXT_MODEL, else MEMER_MODEL_DIR/text-model.onnx when it exists. */
export function textModelPath(config: Pick<Config, 'textModel' | 'modelDir'>): string | null {
  if (config.textModel) return resolve(config.textModel);
  const path = resolve(join(config.modelDir, 'text-model.onnx'));
  return existsSync(path) ? path : null;
}

/** The media limits of the configuration (an audio-only file is never accepted, so its limit is the video's). */
export function mediaLimitsOf(config: Pick<Config, 'media'>): MediaLimits {
  const limits = mediaLimits(config.media.limits);
  return limits.maxAudioSeconds === limits.maxVideoSeconds ? limits : { ...limits, maxAudioSeconds: limits.maxVideoSeconds };
}

export class MediaService {
  readonly limits: MediaLimits;
  /** The extractors' widths: the built-in visual and audio, the text model's (read from its file at start). */
  readonly dims: ContentDims;
  private readonly textModel: string | null;
  private readonly limiter: DecodeLimiter;
  private extractor: Promise<ContentExtractor> | null = null;
  private closed = false;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    /** The widths uploads are checked against now (FeatureWidths.current). */
    private readonly rules: () => FeatureRules,
  ) {
    this.limits = mediaLimitsOf(config);
    this.limiter = new DecodeLimiter(config.media.concurrency);
    this.textModel = config.extractors === 'builtin' ? textModelPath(config) : null;
    // A configured text model that is missing or broken stops the start here, naming the file.
    this.dims = { ...BUILTIN_DIMS, text: this.textModel ? textModelDim(this.textModel) : null };
  }

  get enabled(): boolean {
    return this.config.extractors === 'builtin';
  }

  /** Extractions running and waiting (metrics, tests). */
  get load(): { active: number; queued: number } {
    return { active: this.limiter.active, queued: this.limiter.queued };
  }

  /**
   * The widths a new installation takes where no model, stored post or setting names one: the extractors' for what
   * they make, the paper's for the rest (aux, and text without a text model). Null with extractors off.
   */
  fallback(): Fallback | null {
    if (!this.enabled) return null;
    const { visual, audio, text } = this.dims;
    const own = (m: MediaType) => ({ ...this.config.features[mediaTypeNames[m]], visual, ...(m === 'VIDEO' ? { audio } : {}), ...(text ? { text } : {}) });
    return { widths: { video: own('VIDEO'), image: own('IMAGE') }, origin: "the built-in extractors' width for a new installation; %s sets another" };
  }

  /** Each modality the extractors make whose width differs from the one expected (for a warning at start). */
  mismatches(rules: FeatureRules = this.rules()): string[] {
    if (!this.enabled) return [];
    const out: string[] = [];
    for (const mediaType of ['VIDEO', 'IMAGE'] as const) {
      for (const m of this.produced(mediaType)) {
        const expected = rules.features[mediaTypeNames[mediaType]][m];
        if (expected && expected !== this.dims[m]) out.push(this.mismatch(mediaType, m, expected, rules));
      }
    }
    return out;
  }

  /** Opens the extractors now rather than at the first upload (~1 s: the visual model's conversion, OCR workers). */
  async warm(): Promise<void> {
    if (this.enabled) await this.open();
  }

  /** The registration with its media turned into features (and `media` gone); one without media is returned as is. */
  async prepare(input: MediaPostInput, path = 'input'): Promise<PostInput> {
    const { media, ...post } = input;
    if (media == null) return this.withText(post);
    const at = `${path}.media`;
    if (!this.enabled) throw badInput('raw media are not accepted here (MEMER_EXTRACTORS=off): give features instead', { path: at });
    try {
      checkMedia(media, this.limits.maxBytes, at);
    } catch (err) {
      throw this.refusal(err, null, at);
    }
    const rules = this.rules();
    const expected = rules.features[mediaTypeNames[input.mediaType]];
    const given = new Set(Object.entries(input.features ?? {}).filter(([, v]) => v != null).map(([k]) => k));
    const want = new Set<ContentModality>();
    for (const m of this.produced(input.mediaType)) {
      if (given.has(m) || !expected[m]) continue;
      // The text feature is the post's text as much as its media's: a text model of another width leaves it out (as
      // for posts without media; the start-up warning names it) rather than refusing the file.
      if (m === 'text' && expected[m] !== this.dims[m]) continue;
      if (expected[m] !== this.dims[m]) throw badInput(this.mismatch(input.mediaType, m, expected[m]!, rules), { path: at, modality: m, expected: expected[m], got: this.dims[m] });
      want.add(m);
    }
    return this.limiter.run(async () => {
      let label: string | null = null;
      let bytes: Buffer;
      let features: Awaited<ReturnType<ContentExtractor['extract']>>;
      try {
        ({ bytes, label } = await readMedia(media, this.limits.maxBytes, at));
        const extractor = await this.open();
        const decoded = await decodeMedia(bytes, this.limits, { ...extractor.decodeOptions(want), expect: [mediaTypeNames[input.mediaType]] });
        features = await extractor.extract(decoded, { text: input.text, tags: input.tags }, want);
      } catch (err) {
        throw this.refusal(err, label, at);
      }
      const derived: FeatureName[] = [];
      const out: NonNullable<PostInput['features']> = { ...input.features };
      for (const m of want) {
        const v = features[m];
        if (v) (out[m] = v), derived.push(m);
      }
      return { ...post, features: out, derived: { features: derived, digest: createHash('sha256').update(bytes).digest('hex') } };
    });
  }

  /**
   * A post without media gets its text feature from the text model too (as `memer extract --media` gives one to the
   * items without a file), when the installation has a text model whose width its media type takes, the post has
   * text or tags, and gives no text vector itself; otherwise it is left as it is.
   */
  private async withText(post: PostInput): Promise<PostInput> {
    if (!this.enabled || this.dims.text === null || post.features?.text != null) return post;
    if (this.rules().features[mediaTypeNames[post.mediaType]].text !== this.dims.text) return post;
    if (!post.text?.trim() && !post.tags?.length) return post;
    const [text] = (await (await this.open()).embedTexts([{ text: post.text, tags: post.tags }]))!;
    return text ? { ...post, features: { ...post.features, text }, derived: { features: ['text'], digest: null } } : post;
  }

  /** A batch's media, all or nothing: the first failure in input order is reported (with its index). */
  async prepareAll(inputs: readonly MediaPostInput[], path = 'inputs'): Promise<PostInput[]> {
    const settled = await Promise.allSettled(inputs.map((input, i) => this.prepare(input, `${path}[${i}]`)));
    const failed = settled.findIndex((s) => s.status === 'rejected');
    if (failed >= 0) {
      const err = (settled[failed] as PromiseRejectedResult).reason;
      throw err instanceof AppError ? new AppError(err.code, err.message, { ...err.details, index: failed }) : err;
    }
    return settled.map((s) => (s as PromiseFulfilledResult<PostInput>).value);
  }

  async close(): Promise<void> {
    this.closed = true;
    const opening = this.extractor;
    this.extractor = null;
    if (opening) await opening.then((e) => e.close(), () => undefined);
  }

  /** A MediaError as the uploader's BAD_USER_INPUT (its code as `reason`); anything else as it is. */
  private refusal(err: unknown, label: string | null, path: string): unknown {
    if (!isMediaError(err)) return err;
    return badInput(`the media file${label ? ` (${label})` : ''} was refused: ${err.message}`, { path, reason: err.code, ...err.details });
  }

  private produced(mediaType: MediaType): ContentModality[] {
    return PRODUCED[mediaType].filter((m) => m !== 'text' || this.dims.text !== null);
  }

  private mismatch(mediaType: MediaType, m: ContentModality, expected: number, rules: FeatureRules): string {
    const from = rules.origin?.[mediaTypeNames[mediaType]]?.[m];
    return (
      `raw media cannot give ${mediaType} posts their ${m} features here: the built-in ${m} extractor makes ${this.dims[m]} values, ` +
      `and ${mediaType} posts take ${expected}${from ? ` (${from})` : ''}; give features.${m} yourself, or see docs/content-pipeline.md#feature-widths`
    );
  }

  private open(): Promise<ContentExtractor> {
    if (this.closed) return Promise.reject(new Error('the media service is closed'));
    if (!this.extractor) {
      const t0 = performance.now();
      const opening = ContentExtractor.open({
        provider: this.config.executionProvider,
        threads: this.config.ortThreads,
        textModel: this.textModel,
        ocr: this.config.media.ocr,
        fps: this.config.media.fps,
        audioWorkers: Math.min(2, this.config.media.concurrency),
        log: (line) => this.logger.info(line),
      });
      this.extractor = opening;
      opening.then(
        (e) => this.logger.info('content extractors ready', { ms: Math.round(performance.now() - t0), dims: e.dims, ocr: e.reads }),
        () => {
          // Forgotten, so that the next upload tries again (and gets the error itself).
          if (this.extractor === opening) this.extractor = null;
        },
      );
    }
    return this.extractor;
  }
}
