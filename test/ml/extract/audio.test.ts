import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUDIO_DIM, AudioError, embedAudio, secondBoundaries } from '../../../src/ml/extract/audio.js';
import { MEL_BANDS, fft, hzToMel, melBandCentres, melToHz } from '../../../src/ml/extract/audio-mel.js';
import { Rng } from '../../../src/lib/random.js';

const SR = 16_000;

function sine(hz: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, n) => amplitude * Math.sin((2 * Math.PI * hz * n) / SR));
}

function noise(seconds: number, sd: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: Math.round(seconds * SR) }, () => r.normal(0, sd));
}

const argmax = (v: ArrayLike<number>, from: number, to: number) => {
  let best = from;
  for (let i = from; i < to; i++) if (v[i] > v[best]) best = i;
  return best - from;
};

/** O(N^2) DFT, straight from the definition. */
function naiveDft(re: number[], im: number[]): [number[], number[]] {
  const n = re.length;
  const outRe: number[] = [];
  const outIm: number[] = [];
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * k * t) / n;
      sr += re[t] * Math.cos(a) - im[t] * Math.sin(a);
      si += re[t] * Math.sin(a) + im[t] * Math.cos(a);
    }
    outRe.push(sr);
    outIm.push(si);
  }
  return [outRe, outIm];
}

/**
 * The embedding recomputed from its specification, sharing no code with audio.ts / audio-mel.ts: naive DFT, the mel
 * triangles from librosa's formulas (Slaney scale and norm), the log floor, per-second pooling with the tail rule.
 */
function referenceEmbedding(x: Float32Array): number[] {
  const win = 400, hop = 160, nfft = 512, bands = 64;
  const mel = (f: number) => (f < 1000 ? (3 * f) / 200 : 15 + (27 * Math.log(f / 1000)) / Math.log(6.4));
  const hz = (m: number) => (m < 15 ? (200 * m) / 3 : 1000 * Math.pow(6.4, (m - 15) / 27));
  const edges = Array.from({ length: bands + 2 }, (_, i) => hz(mel(125) + ((mel(7500) - mel(125)) * i) / (bands + 1)));
  const fb = Array.from({ length: bands }, (_, m) =>
    Array.from({ length: nfft / 2 + 1 }, (_, k) => {
      const f = (k * SR) / nfft;
      const up = (f - edges[m]) / (edges[m + 1] - edges[m]);
      const down = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
      return Math.max(0, Math.min(up, down)) * (2 / (edges[m + 2] - edges[m]));
    }),
  );
  const w = Array.from({ length: win }, (_, n) => Math.sin((Math.PI * n) / win) ** 2); // = periodic Hann
  const wEnergy = w.reduce((s, v) => s + v * v, 0);
  const frames: number[][] = [];
  for (let off = 0; off + win <= x.length; off += hop) {
    const re = Array.from({ length: nfft }, (_, n) => (n < win ? x[off + n] * w[n] : 0));
    const [Xr, Xi] = naiveDft(re, new Array(nfft).fill(0));
    const p = Xr.slice(0, nfft / 2 + 1).map((r, k) => (r * r + Xi[k] * Xi[k]) / wEnergy);
    frames.push(fb.map((row) => Math.log(row.reduce((s, v, k) => s + v * p[k], 0) + 1e-10)));
  }
  const starts: number[] = [];
  for (let t = 0; t < frames.length; t += 100) starts.push(t);
  if (starts.length > 1 && frames.length - starts[starts.length - 1] < 50) starts.pop();
  const out = new Array(2 * bands).fill(0);
  starts.forEach((s, i) => {
    const group = frames.slice(s, i + 1 < starts.length ? starts[i + 1] : frames.length);
    for (let b = 0; b < bands; b++) {
      const vals = group.map((f) => f[b]);
      const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / vals.length);
      out[b] += mean / starts.length;
      out[bands + b] += sd / starts.length;
    }
  });
  return out;
}

describe('audio: FFT and mel scale', () => {
  test('the radix-2 FFT equals the naive DFT (max abs error < 1e-9 x N)', () => {
    const r = new Rng(7);
    for (const n of [1, 2, 4, 8, 64, 512]) {
      const re = Array.from({ length: n }, () => r.uniform(-1, 1));
      const im = Array.from({ length: n }, () => r.uniform(-1, 1));
      const [wantRe, wantIm] = naiveDft(re, im);
      const gotRe = Float64Array.from(re);
      const gotIm = Float64Array.from(im);
      fft(gotRe, gotIm);
      for (let k = 0; k < n; k++) {
        assert.ok(Math.abs(gotRe[k] - wantRe[k]) < 1e-9 * n, `n=${n} re[${k}]`);
        assert.ok(Math.abs(gotIm[k] - wantIm[k]) < 1e-9 * n, `n=${n} im[${k}]`);
      }
    }
    assert.throws(() => fft(new Float64Array(6), new Float64Array(6)), RangeError);
  });

  test("Slaney's mel scale: linear to 1 kHz (15 mel), 27 mel per factor 6.4 above; invertible", () => {
    assert.ok(Math.abs(hzToMel(440) - 6.6) < 1e-12);
    assert.ok(Math.abs(hzToMel(1000) - 15) < 1e-12);
    assert.ok(Math.abs(hzToMel(6400) - 42) < 1e-12);
    for (const f of [0, 125, 999, 1000, 3000, 7500]) assert.ok(Math.abs(melToHz(hzToMel(f)) - f) < 1e-9 * Math.max(1, f));
    const c = melBandCentres();
    assert.equal(c.length, MEL_BANDS);
    assert.ok(c[0] > 125 && c[MEL_BANDS - 1] < 7500);
  });
});

describe('audio: the embedding', () => {
  test('440 Hz and 4 kHz sines peak in the mel bands around their frequencies', () => {
    const centres = melBandCentres();
    const peaks = [440, 4000].map((hz) => {
      const f = embedAudio(sine(hz, 2));
      assert.equal(f.status, 'ok');
      assert.equal(f.vector.length, AUDIO_DIM);
      const band = argmax(f.vector, 0, MEL_BANDS);
      // The peak band's centre is the nearest centre to the tone (within half the local band spacing).
      const nearest = argmax(Array.from(centres, (c) => -Math.abs(c - hz)), 0, MEL_BANDS);
      assert.equal(band, nearest, `${hz} Hz peaks in band ${band} (centre ${centres[band].toFixed(0)} Hz)`);
      // A steady tone barely moves: the peak band's within-second standard deviation is tiny; far bands see only the
      // window's side lobes, whose leakage varies with the tone's phase at each frame, so they move a little more.
      const stds = Array.from(f.vector.subarray(MEL_BANDS));
      assert.ok(stds[band] < 0.01, `${hz} Hz: peak band std ${stds[band]}`);
      assert.ok(stds.reduce((a, v) => a + v, 0) / MEL_BANDS < 0.1, `${hz} Hz: mean std ${stds}`);
      return band;
    });
    assert.ok(peaks[1] - peaks[0] > 20, `bands ${peaks}`);
  });

  test('white noise is flat: every band within [-0.62, +0.05] nats of ln(s^2 / 31.25 Hz), a sine spans > 10 nats', () => {
    const sd = 0.1;
    const f = embedAudio(noise(10, sd, 3));
    const level = Math.log((sd * sd) / (SR / 512));
    const means = Array.from(f.vector.subarray(0, MEL_BANDS));
    // E[band energy] = s^2 / bin width in every band (Slaney's area norm); the mean of its log lies below that log
    // (Jensen), by at most Euler's gamma = 0.577 (one exponential bin), ~0.45 for the narrow low bands, ~0.1 at the top.
    for (const [b, v] of means.entries()) {
      assert.ok(v - level > -0.577 - 0.05 && v - level < 0.05, `band ${b}: ${v.toFixed(3)} vs ${level.toFixed(3)}`);
    }
    const spread = Math.max(...means) - Math.min(...means);
    const tone = Array.from(embedAudio(sine(1000, 2)).vector.subarray(0, MEL_BANDS));
    assert.ok(Math.max(...tone) - Math.min(...tone) > 10 * Math.max(1, spread), `noise spread ${spread}, tone ${Math.max(...tone) - Math.min(...tone)}`);
  });

  test('a planted signal equals the embedding recomputed independently (naive DFT, float64), max abs diff < 1e-4', () => {
    // Two tones, a chirp and a little noise, switched on at 1.2 s; 2.37 s, so the 35-frame tail joins second 2.
    const r = new Rng(11);
    const x = Float32Array.from({ length: Math.round(2.37 * SR) }, (_, n) => {
      const t = n / SR;
      const chirp = 0.2 * Math.sin(2 * Math.PI * (300 * t + 600 * t * t));
      return 0.3 * Math.sin(2 * Math.PI * 700 * t) + (t > 1.2 ? 0.25 * Math.sin(2 * Math.PI * 2500 * t) : 0) + chirp + r.normal(0, 0.01);
    });
    const got = embedAudio(x);
    assert.equal(got.frames, 235);
    assert.deepEqual(secondBoundaries(235), [0, 100, 235]);
    const want = referenceEmbedding(x);
    let worst = 0;
    for (let i = 0; i < AUDIO_DIM; i++) worst = Math.max(worst, Math.abs(got.vector[i] - want[i]));
    assert.ok(worst < 1e-4, `max abs diff ${worst}`);
    // Deterministic to the bit.
    assert.deepEqual(embedAudio(x).vector, got.vector);
  });

  test('seconds: one group per 100 frames; a tail under 50 frames joins the last second', () => {
    assert.deepEqual(secondBoundaries(1), [0, 1]);
    assert.deepEqual(secondBoundaries(30), [0, 30]);
    assert.deepEqual(secondBoundaries(100), [0, 100]);
    assert.deepEqual(secondBoundaries(149), [0, 149]);
    assert.deepEqual(secondBoundaries(150), [0, 100, 150]);
    assert.deepEqual(secondBoundaries(310), [0, 100, 200, 310]);
  });

  test('empty, too short and silent clips give the all-zero (missing) vector with their status', () => {
    const zero = new Float32Array(AUDIO_DIM);
    for (const [x, status] of [
      [new Float32Array(0), 'empty'],
      [sine(440, 0.02), 'too-short'], // 320 samples < one 400-sample frame
      [new Float32Array(SR * 3), 'silent'],
      [sine(440, 3, 1e-5), 'silent'], // -100 dBFS
    ] as const) {
      const f = embedAudio(x);
      assert.equal(f.status, status);
      assert.deepEqual(f.vector, zero);
      assert.equal(f.frames, 0);
    }
    assert.equal(embedAudio(sine(440, 0.025)).status, 'ok'); // exactly one frame
  });

  test('typed errors: non-finite samples, another sample rate, not a Float32Array', () => {
    const bad = sine(440, 1);
    bad[500] = Number.NaN;
    assert.throws(() => embedAudio(bad), (e: unknown) => e instanceof AudioError && e.code === 'NON_FINITE' && /sample 500/.test(e.message));
    assert.throws(() => embedAudio(sine(440, 1), { sampleRate: 44_100 }), (e: unknown) => e instanceof AudioError && e.code === 'BAD_SAMPLE_RATE');
    assert.throws(() => embedAudio([0, 1] as unknown as Float32Array), (e: unknown) => e instanceof AudioError && e.code === 'BAD_INPUT');
  });

  test('speed: audio seconds per wall second (reported; at least 20x real time)', (t) => {
    const x = noise(60, 0.1, 5);
    embedAudio(x.subarray(0, SR)); // warm the JIT and the tables
    const start = performance.now();
    embedAudio(x);
    const wall = (performance.now() - start) / 1000;
    const rate = 60 / wall;
    t.diagnostic(`audio embedding: ${rate.toFixed(0)} audio s per wall s (60 s clip in ${(wall * 1000).toFixed(0)} ms)`);
    assert.ok(rate > 20, `${rate.toFixed(1)}x real time`);
  });
});
