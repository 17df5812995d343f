/**
 * The audio track as the paper's audio model takes it (section 2.2): 16 kHz mono float samples, channels averaged.
 */
import { MediaError } from './errors.js';
import type { MediaLimits } from './limits.js';
import { checkCoverage, inputArgs, probeMedia, type MediaProbe } from './probe.js';
import { runFfmpeg, timeLeft } from './process.js';

export const AUDIO_SAMPLE_RATE = 16_000;

export interface AudioOptions {
  limits: MediaLimits;
  probe?: MediaProbe;
  /** Epoch ms by which all the decoding of this file must be done; default now + limits.timeoutMs. */
  deadline?: number;
}

/**
 * The first audio stream at 16 kHz mono (f32, about [-1, 1]), or null when the file has none. Bounded by
 * maxVideoSeconds for a video's track and maxAudioSeconds for an audio file: decoding stops past the limit and a
 * track longer than its header said is refused with TOO_LONG.
 */
export async function decodeAudio(path: string, opts: AudioOptions): Promise<Float32Array | null> {
  const { limits } = opts;
  const deadline = opts.deadline ?? Date.now() + limits.timeoutMs;
  const probe = opts.probe ?? (await probeMedia(path, { limits, deadline }));
  if (!probe.audio) return null;
  const maxSeconds = probe.kind === 'video' ? limits.maxVideoSeconds : limits.maxAudioSeconds;
  // One second of grace, as for video frames: header durations and decoded lengths round differently.
  const maxBytes = (maxSeconds + 1) * AUDIO_SAMPLE_RATE * 4;
  const chunks: Buffer[] = [];
  let bytes = 0;
  const what = probe.kind === 'video' ? 'the audio track' : 'the audio file';
  await runFfmpeg(
    [
      ...inputArgs(path, probe, limits),
      '-map', `0:${probe.audio.index}`,
      '-vn', '-sn', '-dn',
      '-t', String(maxSeconds + 2),
      '-ac', '1', '-ar', String(AUDIO_SAMPLE_RATE),
      '-f', 'f32le', 'pipe:1',
    ],
    {
      what,
      timeoutMs: timeLeft(deadline, what),
      stopOnError: true,
      onStdout(chunk) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          throw new MediaError('TOO_LONG', `${what} runs past the limit of ${maxSeconds} s${probe.duration !== null ? ' (longer than its header says)' : ''}`, { maxSeconds });
        }
        chunks.push(chunk);
      },
    },
  );
  if (bytes < 4) throw new MediaError('CORRUPT', `${what} has no decodable samples`, { format: probe.format });
  // Audio lengths are exact to a few ms (codec priming aside): a tenth of a second of slack.
  checkCoverage(probe, probe.audio.duration, bytes / 4 / AUDIO_SAMPLE_RATE, 0.1, what);
  // A copy into a fresh, aligned buffer (f32le is the host's order on every platform Node ships for).
  return new Float32Array(new Uint8Array(Buffer.concat(chunks, bytes - (bytes % 4))).buffer);
}
