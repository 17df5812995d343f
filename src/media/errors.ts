/**
 * Why a media file was refused. Every code is the uploader's problem (the service maps a MediaError to
 * BAD_USER_INPUT with its code in the details); a failure of ours (ffmpeg missing, out of memory) is a plain Error.
 */
import { withoutFrames } from '../errors.js';

export const MEDIA_ERROR_CODES = [
  /** Zero bytes. */
  'EMPTY',
  /** The file ends before its data does. */
  'TRUNCATED',
  /** The bytes are not a valid file of the format they claim. */
  'CORRUPT',
  /** Not a format we decode (by its bytes, whatever its name or declared type), or not the kind expected. */
  'UNSUPPORTED',
  /** More bytes than MediaLimits.maxBytes. */
  'TOO_LARGE',
  /** width x height over MediaLimits.maxPixels (decompression bombs declare huge dimensions). */
  'TOO_MANY_PIXELS',
  /** Longer than MediaLimits.maxVideoSeconds / maxAudioSeconds, by its header or by what it decodes to. */
  'TOO_LONG',
  'NO_VIDEO_STREAM',
  'NO_AUDIO_STREAM',
  /** Decoding took longer than MediaLimits.timeoutMs. */
  'TIMEOUT',
] as const;

export type MediaErrorCode = (typeof MEDIA_ERROR_CODES)[number];

export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    /** Names the problem for the uploader, e.g. "the image is 100000x100000 pixels, over the limit of 40000000". */
    message: string,
    /** Machine-readable facts (the limit, the measured value, the format). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'MediaError';
    // A client's mistake: its stack is never needed, and formatting it costs more than refusing the file.
    this.stack = withoutFrames(this);
  }
}

export const isMediaError = (err: unknown): err is MediaError => err instanceof MediaError;

/**
 * A decoder's diagnostic, short enough to show a user: its lines, each kind once (libvips repeats a message per
 * retry, "bad seek to 1024", "bad seek to 512", ...), whitespace collapsed, cut at maxChars.
 */
export function trimDiagnostic(text: string, maxChars = 300): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+/g, ' ').trim();
    const shape = line.replace(/\d+/g, '#');
    if (!line || seen.has(shape)) continue;
    seen.add(shape);
    lines.push(line);
  }
  const flat = lines.join('; ');
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 3)}...` : flat;
}
