/**
 * One entry for any upload: the bytes say what it is (never its name or declared type), and it is decoded into what
 * the extractors take: an image for the visual model, a video's sampled frames and its 16 kHz audio, or an audio
 * file's samples; optionally grey PNGs for OCR. Every refusal is a MediaError; decodes run under a DecodeLimiter.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decodeAudio, AUDIO_SAMPLE_RATE } from './audio.js';
import { MediaError } from './errors.js';
import { decodeImage } from './image.js';
import type { RgbImage } from './image-types.js';
import type { MediaLimits } from './limits.js';
import { defaultDecodeLimiter, type DecodeLimiter } from './limiter.js';
import { fileHead, probeMedia } from './probe.js';
import { sniff, type AvFormat, type ImageFormat, type MediaKind } from './sniff.js';
import { withMediaFile } from './temp-file.js';
import { decodeVideoFrames, videoOcrFrames } from './video.js';

export interface DecodeMediaOptions {
  /** Side of the square images the visual model takes (images and video frames). */
  size: number;
  /** Video frames sampled per second. Default 1. */
  fps?: number;
  /** Decode a video's audio track. Default true. */
  audio?: boolean;
  /** Grey PNGs for OCR: the image, or `frames` frames spread over a video (default 3). Default off. */
  ocr?: boolean | { frames?: number; minSide?: number; maxSide?: number };
  /** The kinds the caller takes (a post declared as an image): anything else is UNSUPPORTED. Default: all. */
  expect?: readonly MediaKind[];
  /** Default: the process-wide one (one decode per core). */
  limiter?: DecodeLimiter;
  /** Where an upload given as a Buffer is written while ffmpeg reads it. Default os.tmpdir(). */
  tmpDir?: string;
}

interface Common {
  /** The file's size. */
  bytes: number;
  /** Grey PNGs for OCR; empty unless asked for. */
  ocrPngs: Buffer[];
}

export interface DecodedImageMedia extends Common {
  kind: 'image';
  format: ImageFormat;
  /** The original's dimensions, as displayed. */
  width: number;
  height: number;
  image: RgbImage;
}

export interface DecodedVideoMedia extends Common {
  kind: 'video';
  format: AvFormat;
  width: number;
  height: number;
  /** The header's duration, when it has one. */
  duration: number | null;
  /** The rate sampled (the asked fps, or less for a video too long for limits.maxFrames). */
  fps: number;
  /** Seconds covered by the frames; frameSecond[i] in [0, seconds). */
  seconds: number;
  frames: RgbImage[];
  frameSecond: Int32Array;
  /** 16 kHz mono, or null when the video has no audio track (or `audio: false`). */
  audio: Float32Array | null;
}

export interface DecodedAudioMedia extends Common {
  kind: 'audio';
  format: AvFormat;
  /** Seconds of decoded audio. */
  duration: number;
  /** 16 kHz mono. */
  audio: Float32Array;
}

export type DecodedMedia = DecodedImageMedia | DecodedVideoMedia | DecodedAudioMedia;

function expectKind(kind: MediaKind, format: string, expect: readonly MediaKind[] | undefined): void {
  if (expect && !expect.includes(kind)) {
    throw new MediaError('UNSUPPORTED', `the file is ${kind === 'image' ? 'an image' : kind === 'audio' ? 'an audio file' : 'a video'} (${format}), expected ${expect.join(' or ')}`, {
      kind,
      format,
      expected: [...expect],
    });
  }
}

async function decodeAv(path: string, bytes: number, limits: MediaLimits, opts: DecodeMediaOptions): Promise<DecodedVideoMedia | DecodedAudioMedia> {
  const deadline = Date.now() + limits.timeoutMs;
  const probe = await probeMedia(path, { limits, deadline });
  expectKind(probe.kind, probe.format, opts.expect);
  const ocr = opts.ocr === true ? {} : opts.ocr || null;
  if (probe.kind === 'audio') {
    const audio = await decodeAudio(path, { limits, probe, deadline });
    // probe.kind is 'audio' only when there is an audio stream, so decodeAudio returns samples.
    if (!audio) throw new MediaError('NO_AUDIO_STREAM', `the audio file (${probe.format}) has no audio stream`);
    return { kind: 'audio', format: probe.format, bytes, duration: audio.length / AUDIO_SAMPLE_RATE, audio, ocrPngs: [] };
  }
  const video = await decodeVideoFrames(path, { fps: opts.fps ?? 1, size: opts.size, limits, probe, deadline });
  const audio = opts.audio === false ? null : await decodeAudio(path, { limits, probe, deadline });
  const ocrPngs = ocr ? await videoOcrFrames(path, { limits, probe, deadline, count: ocr.frames, minSide: ocr.minSide, maxSide: ocr.maxSide }) : [];
  return { kind: 'video', format: probe.format, bytes, ...video, audio, ocrPngs };
}

async function decodeNow(input: Buffer | { path: string }, limits: MediaLimits, opts: DecodeMediaOptions): Promise<DecodedMedia> {
  let head: Buffer;
  let bytes: number;
  if (Buffer.isBuffer(input)) {
    bytes = input.length;
    if (bytes > limits.maxBytes) throw new MediaError('TOO_LARGE', `the file is ${bytes} bytes, over the limit of ${limits.maxBytes}`, { bytes, maxBytes: limits.maxBytes });
    head = input;
  } else {
    ({ head, bytes } = await fileHead(resolve(input.path), limits));
  }
  const found = sniff(head);
  if (found.kind === 'image') {
    expectKind('image', found.format, opts.expect);
    const data = Buffer.isBuffer(input) ? input : await readFile(resolve(input.path));
    const ocr = opts.ocr === true ? {} : opts.ocr || null;
    const decoded = await decodeImage(data, limits, { size: opts.size, ocr: ocr ? { minSide: ocr.minSide, maxSide: ocr.maxSide } : false });
    return { kind: 'image', format: decoded.format, bytes, width: decoded.width, height: decoded.height, image: decoded.image, ocrPngs: decoded.ocrPng ? [decoded.ocrPng] : [] };
  }
  // An audio/video container is refused here when the caller takes images only; video or audio is decided by the
  // streams ffprobe finds (an .ogg may hold a video, an .mp4 only sound).
  if (opts.expect?.every((k) => k === 'image')) expectKind(found.kind, found.format, opts.expect);
  return withMediaFile(input, (path) => decodeAv(path, bytes, limits, opts), opts.tmpDir);
}

/**
 * Decodes an upload (its bytes, or a file by path) under the limits, waiting for a slot of `opts.limiter`.
 * Rejects with a MediaError for anything wrong with the file, with RangeError for bad options, and with a plain
 * Error only for failures of ours (a decoder that cannot start).
 */
export function decodeMedia(input: Buffer | { path: string }, limits: MediaLimits, opts: DecodeMediaOptions): Promise<DecodedMedia> {
  if (!Number.isSafeInteger(opts.size) || opts.size <= 0 || opts.size > 4096) return Promise.reject(new RangeError(`size must be an integer in [1, 4096], got ${opts.size}`));
  return (opts.limiter ?? defaultDecodeLimiter).run(() => decodeNow(input, limits, opts));
}
