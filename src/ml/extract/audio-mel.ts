/**
 * Log-mel frames of 16 kHz mono audio, the front end of the audio embedding (audio.ts), with VGGish's framing
 * (Hershey et al. 2017): 25 ms periodic-Hann windows every 10 ms, zero-padded to a 512-point FFT, 64 mel bands from
 * 125 Hz to 7500 Hz.
 *
 * Glossary
 *   frame      400 samples (25 ms) starting every 160 samples (10 ms); only whole frames, no padding at the ends
 *   power      |X[k]|^2 / sum(w^2): a periodogram scaled so that white noise of variance s^2 has E[power] = s^2 in
 *              every bin, whatever the window
 *   mel scale  Slaney's (librosa's default, `htk=False`): linear below 1 kHz (200/3 Hz per mel), logarithmic above
 *              (27 mels per factor 6.4); triangles with Slaney's area normalisation (2 / (f_hi - f_lo)), so every
 *              band answers a flat spectrum with the same energy and white noise comes out flat
 *   log-mel    ln(band energy + 1e-10): the floor is -100 dB under full scale, so silence is finite
 */

export const SAMPLE_RATE = 16_000;
export const FRAME_LENGTH = 400;
export const HOP_LENGTH = 160;
export const FFT_SIZE = 512;
export const MEL_BANDS = 64;
export const MEL_FMIN = 125;
export const MEL_FMAX = 7500;
export const LOG_FLOOR = 1e-10;
/** Frames per second of audio (the hop is 10 ms). */
export const FRAMES_PER_SECOND = SAMPLE_RATE / HOP_LENGTH;

const BINS = FFT_SIZE / 2 + 1;

interface FftPlan {
  bitrev: Uint32Array;
  cos: Float64Array;
  sin: Float64Array;
}

const plans = new Map<number, FftPlan>();

function plan(n: number): FftPlan {
  let p = plans.get(n);
  if (p) return p;
  const bits = Math.log2(n);
  const bitrev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0, x = i; b < bits; b++, x >>>= 1) r = (r << 1) | (x & 1);
    bitrev[i] = r;
  }
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  p = { bitrev, cos, sin };
  plans.set(n, p);
  return p;
}

/**
 * In-place forward DFT X[k] = sum_n x[n] e^{-2 pi i k n / N} by iterative radix-2 decimation in time; N must be a
 * power of two. The twiddles are tabulated once per size, so a frame costs N/2 log2 N butterflies and no trig.
 */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n) throw new RangeError(`fft: re has ${n} values, im ${im.length}`);
  if (n < 1 || (n & (n - 1)) !== 0) throw new RangeError(`fft: the length must be a power of two, got ${n}`);
  if (n === 1) return;
  const { bitrev, cos, sin } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = bitrev[i];
    if (j > i) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >>> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0, t = 0; k < half; k++, t += step) {
        const a = start + k;
        const b = a + half;
        const wr = cos[t];
        const wi = sin[t];
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/** Slaney's mel scale (librosa `hz_to_mel(htk=False)`). */
export function hzToMel(hz: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return hz < minLogHz ? hz / fSp : minLogMel + Math.log(hz / minLogHz) / logStep;
}

export function melToHz(mel: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return mel < minLogMel ? mel * fSp : minLogHz * Math.exp(logStep * (mel - minLogMel));
}

/** The MEL_BANDS + 2 triangle corners in Hz, evenly spaced in mels from MEL_FMIN to MEL_FMAX. */
export function melEdges(): Float64Array {
  const lo = hzToMel(MEL_FMIN);
  const hi = hzToMel(MEL_FMAX);
  return Float64Array.from({ length: MEL_BANDS + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (MEL_BANDS + 1)));
}

/** Band m's centre frequency in Hz (the peak of its triangle). */
export function melBandCentres(): Float64Array {
  return melEdges().slice(1, MEL_BANDS + 1);
}

interface Filterbank {
  /** First FFT bin and the weights of band m, stored sparsely: a triangle covers a few bins only. */
  first: Uint16Array;
  weights: Float64Array[];
}

let filterbank: Filterbank | undefined;

function melFilterbank(): Filterbank {
  if (filterbank) return filterbank;
  const f = melEdges();
  const first = new Uint16Array(MEL_BANDS);
  const weights: Float64Array[] = [];
  for (let m = 0; m < MEL_BANDS; m++) {
    const norm = 2 / (f[m + 2] - f[m]);
    const w: number[] = [];
    let start = -1;
    for (let k = 0; k < BINS; k++) {
      const hz = (k * SAMPLE_RATE) / FFT_SIZE;
      const v = Math.max(0, Math.min((hz - f[m]) / (f[m + 1] - f[m]), (f[m + 2] - hz) / (f[m + 2] - f[m + 1])));
      if (v > 0) {
        if (start < 0) start = k;
        w[k - start] = v * norm;
      } else if (start >= 0) break;
    }
    // 64 bands over 125-7500 Hz are ~43 Hz apart at the bottom, wider than the 31.25 Hz bins: none is empty.
    if (start < 0) throw new Error(`mel band ${m} covers no FFT bin`);
    first[m] = start;
    weights.push(Float64Array.from(w, (x) => x ?? 0));
  }
  filterbank = { first, weights };
  return filterbank;
}

let window: Float64Array | undefined;
let windowEnergy = 0;

/** Periodic Hann, w[n] = 0.5 - 0.5 cos(2 pi n / N), as VGGish and librosa use for spectrograms. */
export function hannWindow(): Float64Array {
  if (!window) {
    window = Float64Array.from({ length: FRAME_LENGTH }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / FRAME_LENGTH));
    windowEnergy = window.reduce((s, x) => s + x * x, 0);
  }
  return window;
}

/** Whole frames in `length` samples (0 when shorter than one frame). */
export function frameCount(length: number): number {
  return length < FRAME_LENGTH ? 0 : 1 + Math.floor((length - FRAME_LENGTH) / HOP_LENGTH);
}

export interface LogMel {
  frames: number;
  /** frames x MEL_BANDS, row-major. */
  data: Float32Array;
}

/** Log-mel frames of 16 kHz mono samples (no checks: audio.ts validates its input). */
export function logMelFrames(samples: Float32Array): LogMel {
  const frames = frameCount(samples.length);
  const data = new Float32Array(frames * MEL_BANDS);
  const w = hannWindow();
  const { first, weights } = melFilterbank();
  const re = new Float64Array(FFT_SIZE);
  const im = new Float64Array(FFT_SIZE);
  const power = new Float64Array(BINS);
  const scale = 1 / windowEnergy;
  for (let t = 0; t < frames; t++) {
    const off = t * HOP_LENGTH;
    for (let n = 0; n < FRAME_LENGTH; n++) re[n] = samples[off + n] * w[n];
    re.fill(0, FRAME_LENGTH);
    im.fill(0);
    fft(re, im);
    for (let k = 0; k < BINS; k++) power[k] = (re[k] * re[k] + im[k] * im[k]) * scale;
    const row = t * MEL_BANDS;
    for (let m = 0; m < MEL_BANDS; m++) {
      const wm = weights[m];
      const k0 = first[m];
      let e = 0;
      for (let j = 0; j < wm.length; j++) e += wm[j] * power[k0 + j];
      data[row + m] = Math.log(e + LOG_FLOOR);
    }
  }
  return { frames, data };
}
