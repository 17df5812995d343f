/**
 * What an audio/video file declares, read by ffprobe before anything is decoded, so that a file over the limits
 * (a 10-hour header, an 8K x 8K frame) is refused for the cost of reading its header.
 */
import { open, stat } from 'node:fs/promises';
import { MediaError } from './errors.js';
import type { MediaLimits } from './limits.js';
import { inputGuard, runFfprobe, timeLeft } from './process.js';
import { DEMUXERS, SNIFF_BYTES, sniff, type AvFormat } from './sniff.js';
import { wavDeclaredSeconds } from './wav-header.js';

export interface VideoStreamInfo {
  /** The stream's index in the file (ffmpeg's -map 0:N). */
  index: number;
  codec: string;
  /** As displayed: a 90-degree rotation in the header swaps them (ffmpeg applies it when decoding). */
  width: number;
  height: number;
  /** Average frame rate, when declared. */
  fps: number | null;
  /** The stream's own duration in seconds, when declared (not the file's: another stream may be longer). */
  duration: number | null;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  sampleRate: number;
  channels: number;
  /** The stream's own duration in seconds, when declared (not the file's: another stream may be longer). */
  duration: number | null;
}

export interface MediaProbe {
  /** The container by its bytes (ffmpeg is always told it). */
  format: AvFormat;
  /** What the file holds: a video stream makes it a video, else an audio stream an audio file. */
  kind: 'video' | 'audio';
  /** Seconds, when the header says (a live-recorded WebM may not; decoding is then bounded by the limits). */
  duration: number | null;
  /** The first video stream that is not cover art. */
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
  bytes: number;
}

interface FfprobeStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  nb_frames?: string;
  avg_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string; DURATION?: string };
  side_data_list?: { rotation?: number }[];
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string };
}

const ENTRIES = [
  'format=duration',
  'stream=index,codec_type,codec_name,width,height,duration,nb_frames,avg_frame_rate,sample_rate,channels',
  'stream_disposition=attached_pic',
  'stream_tags=rotate,DURATION',
  'stream_side_data=rotation',
].join(':');

const seconds = (value: string | undefined): number | null => {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
};

/** A stream's own duration: ffprobe's, or the DURATION tag ("00:00:02.040000000") Matroska muxers write per track. */
function streamSeconds(stream: FfprobeStream): number | null {
  const own = seconds(stream.duration);
  if (own !== null) return own;
  const m = /^(\d+):(\d\d):(\d\d(?:\.\d+)?)$/.exec(stream.tags?.DURATION ?? '');
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

function rate(value: string | undefined): number | null {
  const [num, den] = (value ?? '').split('/').map(Number);
  return num > 0 && den > 0 ? num / den : null;
}

/**
 * A video stream's length: its duration, or its frame count over its rate when that says more. An AVI cut short
 * keeps its header's frame count while ffmpeg, without the index at the end, measures a shorter stream: the gap is a
 * truncated file. (Only AVI: an mp4's edit list may legitimately show fewer frames than its sample table holds.)
 */
function videoDuration(stream: FfprobeStream, format: AvFormat): number | null {
  const own = streamSeconds(stream);
  const frames = Number(stream.nb_frames);
  const fps = rate(stream.avg_frame_rate);
  const counted = Number.isSafeInteger(frames) && frames > 0 && fps ? frames / fps : null;
  if (own !== null && counted !== null && format === 'avi' && counted > own * 1.02 + 0.1) {
    throw new MediaError('TRUNCATED', `the video holds ${formatSeconds(own)} of the ${formatSeconds(counted)} its header declares: the file is truncated`, {
      seconds: own,
      declaredSeconds: counted,
    });
  }
  return own === null ? counted : counted === null ? own : Math.max(own, counted);
}

/** Enough of a WAV to find its data chunk behind the metadata chunks writers put first. */
const WAV_HEAD_BYTES = 65536;

function rotation(stream: FfprobeStream): number {
  const fromMatrix = stream.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const degrees = fromMatrix ?? Number(stream.tags?.rotate ?? 0);
  return Number.isFinite(degrees) ? ((Math.round(degrees / 90) % 4) + 4) % 4 : 0;
}

/** The size of a file and its first `length` bytes, refusing a file over limits.maxBytes before reading it. */
export async function fileHead(path: string, limits: MediaLimits, length = SNIFF_BYTES): Promise<{ head: Buffer; bytes: number }> {
  const info = await stat(path);
  // A FIFO or a device would be read without end, a directory not at all.
  if (!info.isFile()) throw new MediaError('UNSUPPORTED', 'the upload is not a regular file');
  const { size } = info;
  if (size > limits.maxBytes) throw new MediaError('TOO_LARGE', `the file is ${size} bytes, over the limit of ${limits.maxBytes}`, { bytes: size, maxBytes: limits.maxBytes });
  const head = Buffer.alloc(Math.min(length, size));
  const file = await open(path, 'r');
  try {
    await file.read(head, 0, head.length, 0);
  } finally {
    await file.close();
  }
  return { head, bytes: size };
}

/** The size of the file and its sniffed container, refusing what is no audio/video container. */
export async function sniffFile(path: string, limits: MediaLimits): Promise<{ format: AvFormat; kind: 'video' | 'audio'; bytes: number }> {
  const { head, bytes } = await fileHead(path, limits);
  const found = sniff(head);
  if (found.kind === 'image') throw new MediaError('UNSUPPORTED', `the file is an image (${found.format}), not a video or audio file`, { format: found.format });
  return { format: found.format, kind: found.kind, bytes };
}

/**
 * Containers whose header states the length exactly (sample tables, a data size, a sample count, frame counts), so
 * a decode that ends well short of it means the file was cut. MP3 and Ogg are left out: their durations are estimated
 * from the bitrate or read from the last page, and a stream cut at a frame boundary is a valid shorter file.
 */
export const EXACT_DURATION: ReadonlySet<AvFormat> = new Set(['mp4', 'mov', 'm4a', 'webm', 'matroska', 'avi', 'wav', 'flac']);

/** Input options and the input, shared by every decode of a file: whitelisted protocols and the sniffed demuxer. */
export const inputArgs = (path: string, probe: MediaProbe, limits: MediaLimits) => [...inputGuard(limits), '-f', DEMUXERS[probe.format], '-i', `file:${path}`];

export interface ProbeOptions {
  limits: MediaLimits;
  /** Epoch ms by which all the decoding of this file must be done; default now + limits.timeoutMs. */
  deadline?: number;
}

/** Probes an audio/video file and refuses it when its header is over the limits. */
export async function probeMedia(path: string, { limits, deadline = Date.now() + limits.timeoutMs }: ProbeOptions): Promise<MediaProbe> {
  const { format, kind: sniffed, bytes } = await sniffFile(path, limits);
  const what = sniffed === 'video' ? 'the video' : 'the audio file';
  const json = await runFfprobe([...inputGuard(limits), '-f', DEMUXERS[format], '-show_entries', ENTRIES, '-of', 'json', `file:${path}`], {
    what,
    timeoutMs: timeLeft(deadline, what),
  });
  let out: FfprobeOutput;
  try {
    out = JSON.parse(json) as FfprobeOutput;
  } catch {
    throw new MediaError('CORRUPT', `${what} could not be read (its header is unreadable)`);
  }
  const streams = out.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const a = streams.find((s) => s.codec_type === 'audio');
  if (!v && !a) {
    throw sniffed === 'video'
      ? new MediaError('NO_VIDEO_STREAM', `${what} (${format}) has no video or audio stream`, { format })
      : new MediaError('NO_AUDIO_STREAM', `${what} (${format}) has no audio stream`, { format });
  }
  const fileDuration = seconds(out.format?.duration);
  let video: VideoStreamInfo | null = null;
  if (v) {
    const [w, h] = [v.width ?? 0, v.height ?? 0];
    if (!(w > 0 && h > 0)) throw new MediaError('CORRUPT', `the video stream declares no frame size`, { format });
    if (w * h > limits.maxPixels) {
      throw new MediaError('TOO_MANY_PIXELS', `the video is ${w}x${h} pixels a frame, over the limit of ${limits.maxPixels} pixels`, { width: w, height: h, maxPixels: limits.maxPixels });
    }
    const turned = rotation(v) % 2 === 1;
    video = { index: v.index ?? 0, codec: v.codec_name ?? 'unknown', width: turned ? h : w, height: turned ? w : h, fps: rate(v.avg_frame_rate), duration: videoDuration(v, format) };
  }
  // ffprobe estimates a WAV's length from the file size; its header says what it should be.
  const wavSeconds = format === 'wav' ? wavDeclaredSeconds((await fileHead(path, limits, WAV_HEAD_BYTES)).head) : null;
  const audio: AudioStreamInfo | null = a
    ? { index: a.index ?? 0, codec: a.codec_name ?? 'unknown', sampleRate: Number(a.sample_rate) || 0, channels: a.channels ?? 0, duration: wavSeconds ?? streamSeconds(a) }
    : null;
  const durations = [fileDuration, wavSeconds, video?.duration ?? null, ...streams.map(streamSeconds)].filter((d): d is number => d !== null);
  const duration = durations.length ? Math.max(...durations) : null;
  const kind = video ? 'video' : 'audio';
  const max = kind === 'video' ? limits.maxVideoSeconds : limits.maxAudioSeconds;
  if (duration !== null && duration > max) {
    throw new MediaError('TOO_LONG', `the ${kind} is ${formatSeconds(duration)} long, over the limit of ${formatSeconds(max)}`, { seconds: duration, maxSeconds: max });
  }
  return { format, kind, duration, video, audio, bytes };
}

export function formatSeconds(s: number): string {
  if (s < 120) return `${Math.round(s * 10) / 10} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = Math.round(s % 60);
  return h ? `${h} h ${m} min` : `${m} min ${rest} s`;
}

/**
 * Refuses a decode of an exact-duration container that covered well short of the stream's declared length: the
 * file was cut (or its data damaged) after a header that is still whole. `slack` absorbs sampling granularity.
 */
export function checkCoverage(probe: MediaProbe, declared: number | null, covered: number, slack: number, what: string): void {
  if (declared === null || !EXACT_DURATION.has(probe.format)) return;
  if (covered + slack + 0.02 * declared < declared) {
    throw new MediaError('TRUNCATED', `${what} ends after ${formatSeconds(covered)} of the ${formatSeconds(declared)} its header declares: the file is truncated`, {
      seconds: covered,
      declaredSeconds: declared,
    });
  }
}
