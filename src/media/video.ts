/**
 * Video frames for the visual model, as the paper samples them (section 2.2): `fps` frames a second, each one
 * resized to cover size x size and centre-cropped, tagged with the second it belongs to so the extractor can average
 * per second, then over the video. ffmpeg streams raw RGB on a pipe, so memory is bounded by maxFrames whatever the
 * file's length; a header that under-states the length is caught by counting what is decoded.
 */
import type { RgbImage } from './image-types.js';
import { MediaError } from './errors.js';
import type { MediaLimits } from './limits.js';
import { checkCoverage, inputArgs, probeMedia, type MediaProbe, type VideoStreamInfo } from './probe.js';
import { runFfmpeg, timeLeft } from './process.js';

export interface VideoFrameOptions {
  /** Frames sampled per second (the paper's per-second averaging wants at least 1). */
  fps: number;
  /** Side of the square frames. */
  size: number;
  limits: MediaLimits;
  /** A probe of this file already made (decodeMedia probes once for frames, audio and OCR). */
  probe?: MediaProbe;
  /** Epoch ms by which all the decoding of this file must be done; default now + limits.timeoutMs. */
  deadline?: number;
}

export interface VideoInfo {
  /** Frames decoded. */
  frames: number;
  /** The rate actually sampled: `fps`, or less when fps x duration would exceed limits.maxFrames. */
  fps: number;
  /** Seconds the frames cover (frameSecond runs from 0 to seconds - 1; at fps < 1 some seconds have no frame). */
  seconds: number;
  /** The header's duration, when it has one. */
  duration: number | null;
  /** The video's own dimensions, as displayed. */
  width: number;
  height: number;
}

export interface VideoFrames extends Omit<VideoInfo, 'frames'> {
  frames: RgbImage[];
  /** frameSecond[i]: the second of the video frame i was sampled in. */
  frameSecond: Int32Array;
}

/**
 * The sampling rate that keeps the frame count within maxFrames: a long video is sampled more sparsely rather than
 * refused. Without a declared duration, the longest allowed video is assumed.
 */
export function samplingRate(fps: number, duration: number | null, limits: MediaLimits): number {
  const span = duration ?? limits.maxVideoSeconds;
  const most = (limits.maxFrames - 1) / Math.max(span, 1e-3);
  // Rounded to what the fps filter is given, so frameSecond below uses the very rate ffmpeg samples at.
  return Number(Math.min(fps, most).toPrecision(6));
}

function checkOptions(fps: number, size: number): void {
  if (!(Number.isFinite(fps) && fps > 0 && fps <= 60)) throw new RangeError(`fps must be in (0, 60], got ${fps}`);
  if (!Number.isSafeInteger(size) || size <= 0 || size > 4096) throw new RangeError(`frame size must be an integer in [1, 4096], got ${size}`);
}

function videoStream(probe: MediaProbe): VideoStreamInfo {
  if (!probe.video) throw new MediaError('NO_VIDEO_STREAM', `the file (${probe.format}) has no video stream`, { format: probe.format });
  return probe.video;
}

/**
 * Streams the sampled frames to `onFrame` (each a fresh RgbImage the callee may keep), in order, and resolves with
 * what was decoded. Refuses with TOO_LONG when the frames go past maxVideoSeconds or maxFrames, and with CORRUPT when
 * the decoder reports errors or yields no frame.
 */
export async function forEachVideoFrame(
  path: string,
  opts: VideoFrameOptions,
  onFrame: (frame: RgbImage, second: number, index: number) => void,
): Promise<VideoInfo> {
  const { fps, size, limits } = opts;
  checkOptions(fps, size);
  const deadline = opts.deadline ?? Date.now() + limits.timeoutMs;
  const probe = opts.probe ?? (await probeMedia(path, { limits, deadline }));
  const stream = videoStream(probe);
  const rate = samplingRate(fps, probe.duration, limits);
  const frameBytes = size * size * 3;
  const pending = Buffer.alloc(frameBytes);
  let filled = 0;
  let count = 0;
  let lastSecond = -1;
  const emit = () => {
    const time = count / rate;
    const second = Math.floor(time + 1e-9);
    // One second of grace over the limit: a header's duration and the sampled timestamps round differently.
    if (time > limits.maxVideoSeconds + 1 || count >= limits.maxFrames) {
      const lied = probe.duration !== null ? ' (longer than its header says)' : '';
      throw new MediaError('TOO_LONG', `the video runs past the limit of ${limits.maxVideoSeconds} s${lied}`, { maxSeconds: limits.maxVideoSeconds });
    }
    const data = new Float32Array(frameBytes);
    for (let i = 0; i < frameBytes; i++) data[i] = pending[i] / 255;
    onFrame({ width: size, height: size, data }, second, count);
    lastSecond = second;
    count++;
  };
  const filter = [
    `fps=${rate}`,
    `scale=${size}:${size}:force_original_aspect_ratio=increase:flags=area`,
    `crop=${size}:${size}`,
    'setsar=1',
  ].join(',');
  await runFfmpeg(
    [
      ...inputArgs(path, probe, limits),
      '-map', `0:${stream.index}`,
      '-an', '-sn', '-dn',
      // Past the limit by the grace and two sampling steps, so a video longer than declared (or than the limit, when
      // it declares nothing) shows up as a frame over the limit, and decoding stops there.
      '-t', String(Math.ceil(limits.maxVideoSeconds + 1 + 2 / rate)),
      '-vf', filter,
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ],
    {
      what: 'the video',
      timeoutMs: timeLeft(deadline, 'the video'),
      stopOnError: true,
      onStdout(chunk) {
        for (let at = 0; at < chunk.length; ) {
          const n = Math.min(frameBytes - filled, chunk.length - at);
          chunk.copy(pending, filled, at, at + n);
          filled += n;
          at += n;
          if (filled === frameBytes) {
            emit();
            filled = 0;
          }
        }
      },
    },
  );
  if (count === 0) throw new MediaError('CORRUPT', 'the video has no decodable frame', { format: probe.format });
  checkCoverage(probe, stream.duration, count / rate, 1 / rate + 0.25, 'the video');
  return { frames: count, fps: rate, seconds: lastSecond + 1, duration: probe.duration, width: stream.width, height: stream.height };
}

/** All the sampled frames at once (at most limits.maxFrames of them). */
export async function decodeVideoFrames(path: string, opts: VideoFrameOptions): Promise<VideoFrames> {
  const frames: RgbImage[] = [];
  const seconds: number[] = [];
  const info = await forEachVideoFrame(path, opts, (frame, second) => {
    frames.push(frame);
    seconds.push(second);
  });
  return { ...info, frames, frameSecond: Int32Array.from(seconds) };
}

export interface VideoOcrOptions {
  limits: MediaLimits;
  /** Frames to take, spread evenly over the video (a single one when its duration is unknown). Default 3. */
  count?: number;
  /** Long side of each PNG: enlarged to at least minSide, reduced to at most maxSide. Defaults 1000, 2000. */
  minSide?: number;
  maxSide?: number;
  probe?: MediaProbe;
  deadline?: number;
}

/** Grey PNGs of representative frames (evenly spread, at a size OCR reads well), for reading the text in a video. */
export async function videoOcrFrames(path: string, opts: VideoOcrOptions): Promise<Buffer[]> {
  const { limits, count = 3, minSide = 1000, maxSide = 2000 } = opts;
  if (!Number.isSafeInteger(count) || count < 1 || count > 100) throw new RangeError(`OCR frame count must be an integer in [1, 100], got ${count}`);
  const deadline = opts.deadline ?? Date.now() + limits.timeoutMs;
  const probe = opts.probe ?? (await probeMedia(path, { limits, deadline }));
  const stream = videoStream(probe);
  const long = Math.max(stream.width, stream.height);
  const scale = long < minSide ? minSide / long : long > maxSide ? maxSide / long : 1;
  // Even dimensions: some scalers and pixel formats want them; the one-pixel difference does not matter to OCR.
  const w = Math.max(2, 2 * Math.round((stream.width * scale) / 2));
  const h = Math.max(2, 2 * Math.round((stream.height * scale) / 2));
  const times = probe.duration ? Array.from({ length: count }, (_, k) => ((k + 0.5) / count) * probe.duration!) : [0];
  const pngs: Buffer[] = [];
  for (const t of times) {
    const chunks: Buffer[] = [];
    let bytes = 0;
    await runFfmpeg(
      [
        // Seeking before the input jumps to the keyframe before t, then decodes up to t: cheap on long videos.
        '-ss', t.toFixed(3),
        ...inputArgs(path, probe, limits),
        '-map', `0:${stream.index}`,
        '-an', '-sn', '-dn',
        '-frames:v', '1',
        '-vf', `scale=${w}:${h}:flags=bicubic,format=gray`,
        '-f', 'image2pipe', '-c:v', 'png', 'pipe:1',
      ],
      {
        what: 'the video',
        timeoutMs: timeLeft(deadline, 'the video'),
        stopOnError: true,
        onStdout(chunk) {
          bytes += chunk.length;
          // A grey PNG of w x h cannot be much bigger than its raw pixels.
          if (bytes > w * h + 65536) throw new Error(`ffmpeg wrote ${bytes} bytes for one ${w}x${h} grey PNG`);
          chunks.push(chunk);
        },
      },
    );
    if (bytes > 0) pngs.push(Buffer.concat(chunks));
  }
  if (pngs.length === 0) throw new MediaError('CORRUPT', 'the video has no decodable frame', { format: probe.format });
  return pngs;
}
