/**
 * What one upload may cost to decode. Every limit is checked on the header before decoding (cheap refusals), and
 * again on what the decoder actually produces (a header can lie).
 */
export interface MediaLimits {
  /** Bytes per file. */
  maxBytes: number;
  /** width x height of an image or of a video frame, as declared by the header. */
  maxPixels: number;
  /** Duration of a video. */
  maxVideoSeconds: number;
  /** Duration of an audio-only file (a video's audio track is bounded by maxVideoSeconds). */
  maxAudioSeconds: number;
  /**
   * Frames kept per video, which bounds the decoder's memory (a 224x224 RgbImage is 602 KB). A video longer than
   * maxFrames / fps seconds is sampled more sparsely rather than refused.
   */
  maxFrames: number;
  /**
   * Wall-clock time for all the decoding of one file (probe, frames, audio, OCR frames together). The default leaves
   * room for a 10-minute 1080p video on a small machine (720p30 decodes at about 8 video seconds per second on 2 cores).
   */
  timeoutMs: number;
}

export const DEFAULT_MEDIA_LIMITS: Readonly<MediaLimits> = Object.freeze({
  maxBytes: 50 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxVideoSeconds: 600,
  maxAudioSeconds: 600,
  maxFrames: 600,
  timeoutMs: 300_000,
});

const FIELDS = Object.keys(DEFAULT_MEDIA_LIMITS) as (keyof MediaLimits)[];

/**
 * The defaults with `overrides` applied, each checked to be a positive integer. Limits come from configuration, so a
 * bad one is a RangeError naming the field (the config loader reports it), never a MediaError.
 */
export function mediaLimits(overrides: Partial<MediaLimits> = {}): MediaLimits {
  for (const key of Object.keys(overrides)) {
    if (!FIELDS.includes(key as keyof MediaLimits)) throw new RangeError(`unknown media limit "${key}" (known: ${FIELDS.join(', ')})`);
  }
  const limits = { ...DEFAULT_MEDIA_LIMITS, ...overrides };
  for (const key of FIELDS) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`media limit ${key} must be a positive integer, got ${String(value)}`);
  }
  return limits;
}
