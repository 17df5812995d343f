/**
 * Content features as noisy nonlinear "views" of the post factors. Each view sees the shared block plus its own block
 * (visual: shared+visual, audio: shared+audio, text: shared+text), so every modality carries factors the others lack.
 *
 * Glossary (per view)
 *   z      the visible factors of a post (shared block ++ own block), length kv
 *   A, c   H x kv first layer (entries N(0, 2.25 / kv)) and bias (N(0, 0.25)); H = 32 hidden units
 *   g      the view's nonlinearity: visual ReLU, audio tanh, text softsign
 *   B      D x H projection to the feature width (entries N(0, 1 / H))
 *   x      visual: ReLU(B g(Az + c) + noise) (non-negative, like pooled CNN activations)
 *          audio:  B g(Az + c) + noise
 *          text:   (B g(Az + c) + noise) scaled to unit L2 norm (like averaged word vectors)
 * Video and image visual features come from two different views (two "extractors"); visual.npy is
 * max(videoVisual, imageVisual) wide and each row is zero-padded on the right. Images have an all-zero audio row.
 * aux.npy (float32): [log duration in seconds (0 for images), log creator followers, log(1 + text length)].
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from '../../lib/random.js';
import { autoFeatureDtype } from '../features.js';
import { NpyWriter, type NpyDtype } from '../npy.js';
import type { SimulatorOptions } from './options.js';
import type { Block, World } from './world.js';

const HIDDEN = 32;
const BATCH = 256;
export const AUX_COLUMNS = ['log_duration_s', 'log_creator_followers', 'log1p_text_length'] as const;

type Kind = 'relu' | 'tanh' | 'softsign';

class View {
  private readonly visible: number[];
  private readonly a: Float64Array;
  private readonly c: Float64Array;
  private readonly b: Float64Array;
  private readonly h = new Float64Array(HIDDEN);

  constructor(
    blocks: readonly Block[],
    readonly dim: number,
    private readonly kind: Kind,
    private readonly noise: number,
    rng: Rng,
  ) {
    this.visible = blocks.flatMap((b) => Array.from({ length: b.size }, (_, j) => b.start + j));
    const kv = Math.max(1, this.visible.length);
    this.a = Float64Array.from({ length: HIDDEN * kv }, () => rng.gaussian() * 1.5 / Math.sqrt(kv));
    this.c = Float64Array.from({ length: HIDDEN }, () => 0.5 * rng.gaussian());
    this.b = Float64Array.from({ length: dim * HIDDEN }, () => rng.gaussian() / Math.sqrt(HIDDEN));
  }

  /** Writes the view of post factors f (at offset fo, world dimension k) into out[0..dim). */
  render(f: Float32Array, fo: number, out: Float32Array, rng: Rng): void {
    const v = this.visible;
    const kv = v.length;
    for (let j = 0; j < HIDDEN; j++) {
      let s = this.c[j];
      for (let q = 0; q < kv; q++) s += this.a[j * kv + q] * f[fo + v[q]];
      this.h[j] = this.kind === 'relu' ? Math.max(0, s) : this.kind === 'tanh' ? Math.tanh(s) : s / (1 + Math.abs(s));
    }
    let norm = 0;
    for (let d = 0; d < this.dim; d++) {
      let s = 0;
      const row = d * HIDDEN;
      for (let j = 0; j < HIDDEN; j++) s += this.b[row + j] * this.h[j];
      s += this.noise * rng.gaussian();
      if (this.kind === 'relu' && s < 0) s = 0;
      out[d] = s;
      norm += s * s;
    }
    if (this.kind === 'softsign' && norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < this.dim; d++) out[d] *= inv;
    }
  }
}

/** The dtype the options ask for (auto: float16 once float32 files would pass 256 MiB). */
export function featureDtype(o: SimulatorOptions): NpyDtype {
  if (o.featureDtype !== 'auto') return o.featureDtype;
  const width = Math.max(o.dims.videoVisual, o.dims.imageVisual) + o.dims.audio + o.dims.text;
  return autoFeatureDtype(o.posts, width);
}

/** Writes features/{visual,audio,text,aux}.npy for every post, in post order. */
export function writeFeatures(dir: string, world: World, o: SimulatorOptions, rng: Rng, onProgress?: (done: number, total: number) => void): NpyDtype {
  const [shared, visual, audio, text] = world.blocks;
  const dtype = featureDtype(o);
  const noise = o.featureNoise;
  const views = {
    videoVisual: new View([shared, visual], o.dims.videoVisual, 'relu', noise, rng),
    imageVisual: new View([shared, visual], o.dims.imageVisual, 'relu', noise, rng),
    audio: new View([shared, audio], o.dims.audio, 'tanh', noise, rng),
    text: new View([shared, text], o.dims.text, 'softsign', noise, rng),
  };
  const n = world.posts.n;
  const vw = Math.max(o.dims.videoVisual, o.dims.imageVisual);
  const fdir = join(dir, 'features');
  mkdirSync(fdir, { recursive: true });
  const files = {
    visual: new NpyWriter(join(fdir, 'visual.npy'), dtype, n, vw),
    audio: new NpyWriter(join(fdir, 'audio.npy'), dtype, n, o.dims.audio),
    text: new NpyWriter(join(fdir, 'text.npy'), dtype, n, o.dims.text),
    aux: new NpyWriter(join(fdir, 'aux.npy'), 'float32', n, AUX_COLUMNS.length),
  };
  const buf = {
    visual: new Float32Array(BATCH * vw),
    audio: new Float32Array(BATCH * o.dims.audio),
    text: new Float32Array(BATCH * o.dims.text),
    aux: new Float32Array(BATCH * AUX_COLUMNS.length),
  };
  const { factors, media, logDuration, creatorLogFollowers } = world.posts;
  for (let start = 0; start < n; start += BATCH) {
    const m = Math.min(BATCH, n - start);
    for (const b of Object.values(buf)) b.fill(0);
    for (let r = 0; r < m; r++) {
      const p = start + r;
      const fo = p * world.k;
      const isVideo = media[p] === 0;
      (isVideo ? views.videoVisual : views.imageVisual).render(factors, fo, buf.visual.subarray(r * vw), rng);
      if (isVideo) views.audio.render(factors, fo, buf.audio.subarray(r * o.dims.audio), rng);
      views.text.render(factors, fo, buf.text.subarray(r * o.dims.text), rng);
      buf.aux.set([logDuration[p], creatorLogFollowers[p], Math.log1p(world.posts.text[p].length)], r * AUX_COLUMNS.length);
    }
    for (const key of ['visual', 'audio', 'text', 'aux'] as const) {
      const width = files[key].dim;
      files[key].writeFloats(buf[key].subarray(0, m * width));
    }
    onProgress?.(start + m, n);
  }
  for (const f of Object.values(files)) f.close();
  return dtype;
}
