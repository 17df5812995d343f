/**
 * The default audio feature (paper 2.2: "the audio track at 16 kHz through an audio model"). No learnt audio model
 * (VGGish, YAMNet, PANNs) installs offline from npm, so memer's audio feature is a documented signal-processing
 * embedding over VGGish's own front end (audio-mel.ts): log-mel frames, pooled per second, then over the clip, the
 * way the paper pools video frames.
 *
 * Layout of the AUDIO_DIM = 128 vector, for a clip split into seconds s = 1..S:
 *   [0, 64)    mean over seconds of (the mean over that second's frames of log-mel band b)      spectral envelope
 *   [64, 128)  mean over seconds of (the standard deviation over that second's frames of band b)  its movement
 * A second is the frames starting in it (100 frames); a trailing part of fewer than 50 frames joins the previous
 * second instead of counting as a second of its own (unless it is all there is). Deterministic: no randomness, and
 * the same samples give the same bits.
 *
 * What counts as no audio is explicit (`status`), and gives the all-zero vector that marks a missing modality in the
 * feature files (datasets/features.ts): 'empty' (no samples), 'too-short' (less than one 25 ms frame), 'silent' (RMS
 * below -80 dBFS: digital silence or a muted track, which tells nothing about the content).
 */
import { FRAME_LENGTH, FRAMES_PER_SECOND, MEL_BANDS, SAMPLE_RATE, logMelFrames } from './audio-mel.js';

export { SAMPLE_RATE as AUDIO_SAMPLE_RATE, MEL_BANDS as AUDIO_MEL_BANDS } from './audio-mel.js';

export const AUDIO_DIM = 2 * MEL_BANDS;
/** RMS below which a clip is silent: -80 dB under full scale (samples in [-1, 1]). */
export const SILENCE_RMS = 1e-4;

export type AudioStatus = 'ok' | 'empty' | 'too-short' | 'silent';

export interface AudioFeatures {
  /** AUDIO_DIM values; all zero unless status is 'ok'. */
  vector: Float32Array;
  status: AudioStatus;
  /** Length of the input in seconds. */
  seconds: number;
  /** Log-mel frames computed (0 unless status is 'ok'). */
  frames: number;
}

export type AudioErrorCode = 'BAD_INPUT' | 'BAD_SAMPLE_RATE' | 'NON_FINITE';

export class AudioError extends Error {
  override readonly name = 'AudioError';
  constructor(
    readonly code: AudioErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AudioOptions {
  /** The rate of `samples`; only 16000 is accepted (the decoder resamples), the option exists to catch mistakes. */
  sampleRate?: number;
}

/** The audio feature of a clip of 16 kHz mono samples in [-1, 1]. */
export function embedAudio(samples: Float32Array, opts: AudioOptions = {}): AudioFeatures {
  if (!(samples instanceof Float32Array)) throw new AudioError('BAD_INPUT', 'audio samples must be a Float32Array of 16 kHz mono samples');
  const rate = opts.sampleRate ?? SAMPLE_RATE;
  if (rate !== SAMPLE_RATE) throw new AudioError('BAD_SAMPLE_RATE', `audio must be resampled to ${SAMPLE_RATE} Hz mono, got ${rate} Hz`);
  const seconds = samples.length / SAMPLE_RATE;
  const none = (status: AudioStatus): AudioFeatures => ({ vector: new Float32Array(AUDIO_DIM), status, seconds, frames: 0 });
  let energy = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    if (!Number.isFinite(x)) throw new AudioError('NON_FINITE', `audio sample ${i} is ${x}`);
    energy += x * x;
  }
  if (samples.length === 0) return none('empty');
  if (samples.length < FRAME_LENGTH) return none('too-short');
  if (Math.sqrt(energy / samples.length) < SILENCE_RMS) return none('silent');

  const { frames, data } = logMelFrames(samples);
  const groups = secondBoundaries(frames);
  const means = new Float64Array(MEL_BANDS);
  const stds = new Float64Array(MEL_BANDS);
  const sum = new Float64Array(MEL_BANDS);
  const sq = new Float64Array(MEL_BANDS);
  for (let s = 0; s + 1 < groups.length; s++) {
    const [from, to] = [groups[s], groups[s + 1]];
    const n = to - from;
    sum.fill(0);
    sq.fill(0);
    for (let t = from; t < to; t++) {
      for (let b = 0; b < MEL_BANDS; b++) {
        const v = data[t * MEL_BANDS + b];
        sum[b] += v;
        sq[b] += v * v;
      }
    }
    for (let b = 0; b < MEL_BANDS; b++) {
      const mean = sum[b] / n;
      means[b] += mean;
      // Max with 0: rounding can leave a tiny negative variance for a constant band.
      stds[b] += Math.sqrt(Math.max(0, sq[b] / n - mean * mean));
    }
  }
  const count = groups.length - 1;
  const vector = new Float32Array(AUDIO_DIM);
  for (let b = 0; b < MEL_BANDS; b++) {
    vector[b] = means[b] / count;
    vector[MEL_BANDS + b] = stds[b] / count;
  }
  return { vector, status: 'ok', seconds, frames };
}

/** Frame indices where each second starts, plus the end: [0, 100, 200, ..., frames]. */
export function secondBoundaries(frames: number): number[] {
  const out = [0];
  for (let t = FRAMES_PER_SECOND; t < frames; t += FRAMES_PER_SECOND) out.push(t);
  out.push(frames);
  // A tail shorter than half a second is too few frames for a standard deviation of its own: merge it.
  if (out.length > 2 && frames - out[out.length - 2] < FRAMES_PER_SECOND / 2) out.splice(out.length - 2, 1);
  return out;
}
