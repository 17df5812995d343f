/**
 * Real media for the demo platform. The simulator's content features are vectors drawn from its latent topics; here a
 * part of the demo's posts get real files instead, generated from their topic, and the features the installation's
 * own extractors make of those files replace the simulated rows, so that the trained MEMER models learn from what an
 * upload of a real file gives.
 *
 *   genre   a post's first tag (the simulator's tags are drawn around its latent topics, the first most often from the
 *           popular ones); the `genres` most frequent first tags of the platform get a look each
 *   image   a 224x224 JPEG rendered from an SVG (sharp): a background of the genre's complementary hue and one to
 *           three shapes of the genre's kind and hue, with noise (hue, lightness, sizes, positions, rotation, specks)
 *   video   a 2 s 224x224 H.264 clip (ffmpeg's lavfi sources): the genre's background with one of its shapes moving
 *           across it, and a sine tone whose pitch is the genre's (half-octave steps from 220 Hz, a few % of noise)
 *
 * Features come through the MediaService (domain/media: read, decode under the configured limits, the built-in
 * extractors), the very path registerPost's `media` takes, so a file uploaded later gets features of the same kind
 * as the ones trained on. Files stay under <dataDir>/demo-media: `<postId>.jpg|.mp4` for the posts given media, and
 * `try/<genre>.jpg|.mp4`, made the same way but not registered, to upload by hand. Deterministic for a seed: every
 * file draws from its own named stream.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { itemTags } from '../../datasets/items.js';
import { streamRng } from '../../datasets/simulator/sampling.js';
import type { Dataset, FeatureMatrix } from '../../datasets/types.js';
import { floatsToHalves } from '../../lib/float16.js';
import type { Rng } from '../../lib/random.js';
import { runFfmpeg } from '../../media/process.js';
import type { MediaService } from '../media/media.service.js';
import type { MediaType } from '../types.js';

export const DEMO_MEDIA = Object.freeze({
  /** Genres given a look: the platform's most frequent first tags. */
  genres: 8,
  /** Posts per genre given a file (the newest first), by media type. */
  imagesPerGenre: 60,
  videosPerGenre: 6,
  /** Pixels a side (the visual model's input). */
  size: 224,
  videoSeconds: 2,
  videoFps: 10,
  /** Files generated and extracted at once. */
  jobs: 3,
});

const SHAPES = ['circle', 'square', 'triangle', 'star', 'ring', 'cross', 'bars', 'diamond'] as const;
type Shape = (typeof SHAPES)[number];

/** A genre's look: its place among the genres decides the hue, the shape and the tone. */
export interface GenreLook {
  genre: string;
  /** Degrees. */
  hue: number;
  shape: Shape;
  /** Hz. */
  tone: number;
}

export function genreLook(genre: string, rank: number, of: number): GenreLook {
  return { genre, hue: (rank * 360) / Math.max(1, of), shape: SHAPES[rank % SHAPES.length], tone: 220 * 2 ** (rank / 2) };
}

/** The `count` most frequent first tags of the items (ties by name), most frequent first. */
export function demoGenres(ds: Dataset, count: number): string[] {
  const freq = new Map<string, number>();
  for (let i = 0; i < ds.items.ids.length; i++) {
    const g = primaryTag(ds, i);
    if (g !== null) freq.set(g, (freq.get(g) ?? 0) + 1);
  }
  return [...freq.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, count).map(([g]) => g);
}

/** An item's first tag, or null without tags. */
export function primaryTag(ds: Dataset, i: number): string | null {
  const { tagOffsets, tagIds, tagNames } = ds.items;
  return tagOffsets[i + 1] > tagOffsets[i] ? tagNames[tagIds[tagOffsets[i]]] : null;
}

export interface MediaPick {
  /** Dataset index. */
  i: number;
  look: GenreLook;
  mediaType: MediaType;
}

/** Up to `perGenre[mediaType]` items of each genre (the newest first), in dataset order. */
export function pickDemoMedia(ds: Dataset, looks: readonly GenreLook[], perGenre: Record<MediaType, number>): MediaPick[] {
  const byGenre = new Map(looks.map((l) => [l.genre, l]));
  const taken = new Map<string, number>();
  const out: MediaPick[] = [];
  const newestFirst = Array.from(ds.items.ids.keys()).sort((a, b) => ds.items.createdAt[b] - ds.items.createdAt[a] || b - a);
  for (const i of newestFirst) {
    const look = byGenre.get(primaryTag(ds, i) ?? '');
    if (!look) continue;
    const mediaType: MediaType = ds.items.mediaType[i] === 0 ? 'VIDEO' : 'IMAGE';
    const key = `${look.genre}\t${mediaType}`;
    if ((taken.get(key) ?? 0) >= perGenre[mediaType]) continue;
    taken.set(key, (taken.get(key) ?? 0) + 1);
    out.push({ i, look, mediaType });
  }
  return out.sort((a, b) => a.i - b.i);
}

// --- rendering --------------------------------------------------------------------------------------------------

function hex(h: number, s: number, l: number): string {
  // HSL (degrees, 0..1, 0..1) to #rrggbb.
  const hue = ((h % 360) + 360) % 360;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((hue / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = hue < 60 ? [c, x, 0] : hue < 120 ? [x, c, 0] : hue < 180 ? [0, c, x] : hue < 240 ? [0, x, c] : hue < 300 ? [x, 0, c] : [c, 0, x];
  return `#${[r, g, b].map((v) => Math.round((v + m) * 255).toString(16).padStart(2, '0')).join('')}`;
}

/** One shape of the kind, centred at (x, y), of radius r, turned by rot degrees. */
function shapeSvg(shape: Shape, x: number, y: number, r: number, rot: number, fill: string): string {
  const at = `transform="translate(${x.toFixed(1)} ${y.toFixed(1)}) rotate(${rot.toFixed(1)})"`;
  const poly = (pts: [number, number][]) => `<polygon ${at} fill="${fill}" points="${pts.map(([a, b]) => `${(a * r).toFixed(1)},${(b * r).toFixed(1)}`).join(' ')}"/>`;
  switch (shape) {
    case 'circle':
      return `<circle ${at} r="${r.toFixed(1)}" fill="${fill}"/>`;
    case 'square':
      return `<rect ${at} x="${(-0.8 * r).toFixed(1)}" y="${(-0.8 * r).toFixed(1)}" width="${(1.6 * r).toFixed(1)}" height="${(1.6 * r).toFixed(1)}" fill="${fill}"/>`;
    case 'triangle':
      return poly([[0, -1], [0.87, 0.5], [-0.87, 0.5]]);
    case 'star':
      return poly(Array.from({ length: 10 }, (_, k) => {
        const a = (k * Math.PI) / 5 - Math.PI / 2;
        const q = k % 2 ? 0.42 : 1;
        return [q * Math.cos(a), q * Math.sin(a)] as [number, number];
      }));
    case 'ring':
      return `<circle ${at} r="${(0.8 * r).toFixed(1)}" fill="none" stroke="${fill}" stroke-width="${(0.3 * r).toFixed(1)}"/>`;
    case 'cross':
      return `<g ${at} fill="${fill}"><rect x="${(-r).toFixed(1)}" y="${(-0.25 * r).toFixed(1)}" width="${(2 * r).toFixed(1)}" height="${(0.5 * r).toFixed(1)}"/><rect x="${(-0.25 * r).toFixed(1)}" y="${(-r).toFixed(1)}" width="${(0.5 * r).toFixed(1)}" height="${(2 * r).toFixed(1)}"/></g>`;
    case 'bars':
      return `<g ${at} fill="${fill}">${[-0.8, -0.1, 0.6].map((o) => `<rect x="${(-r).toFixed(1)}" y="${(o * r).toFixed(1)}" width="${(2 * r).toFixed(1)}" height="${(0.28 * r).toFixed(1)}"/>`).join('')}</g>`;
    case 'diamond':
      return poly([[0, -1], [0.5, 0], [0, 1], [-0.5, 0]]);
  }
}

/** The noisy colours of one file of the genre. */
function colours(look: GenreLook, rng: Rng): { fg: () => string; bg: string } {
  const hue = look.hue + rng.uniform(-10, 10);
  const bg = hex(hue + 180 + rng.uniform(-20, 20), rng.uniform(0.25, 0.55), rng.uniform(0.12, 0.32));
  return { fg: () => hex(hue + rng.uniform(-6, 6), rng.uniform(0.65, 0.95), rng.uniform(0.45, 0.62)), bg };
}

/** The SVG of an image of the genre. */
export function imageSvg(look: GenreLook, rng: Rng, size = DEMO_MEDIA.size): string {
  const { fg, bg } = colours(look, rng);
  const parts: string[] = [`<rect width="${size}" height="${size}" fill="${bg}"/>`];
  // Specks of any colour: the same clutter in every genre.
  for (let k = rng.int(5); k > 0; k--) parts.push(`<circle cx="${rng.uniform(0, size).toFixed(1)}" cy="${rng.uniform(0, size).toFixed(1)}" r="${rng.uniform(2, 7).toFixed(1)}" fill="${hex(rng.uniform(0, 360), 0.3, rng.uniform(0.3, 0.8))}"/>`);
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const r = size * rng.uniform(0.13, 0.3);
    parts.push(shapeSvg(look.shape, rng.uniform(r, size - r), rng.uniform(r, size - r), r, rng.uniform(0, 360), fg()));
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${parts.join('')}</svg>`;
}

/** A JPEG image of the genre. */
export function renderImage(look: GenreLook, rng: Rng): Promise<Buffer> {
  return sharp(Buffer.from(imageSvg(look, rng))).jpeg({ quality: 85 }).toBuffer();
}

/** A short clip of the genre (H.264 + AAC mp4) at `path`: its shape moving over its background, its tone. */
export async function renderVideo(look: GenreLook, rng: Rng, path: string): Promise<void> {
  const { size, videoSeconds: d, videoFps: fps } = DEMO_MEDIA;
  const { fg, bg } = colours(look, rng);
  const r = Math.round(size * rng.uniform(0.16, 0.24));
  const sprite = `${path}.sprite.png`;
  writeFileSync(sprite, await sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${2 * r}" height="${2 * r}">${shapeSvg(look.shape, r, r, r * 0.95, rng.uniform(0, 360), fg())}</svg>`)).png().toBuffer());
  const [x0, y0] = [rng.uniform(0, size - 2 * r), rng.uniform(0, size - 2 * r)];
  const [vx, vy] = [rng.uniform(-1, 1) * (size - 2 * r) / (2 * d), rng.uniform(-1, 1) * (size - 2 * r) / (2 * d)];
  const tone = look.tone * rng.uniform(0.97, 1.03);
  try {
    await runFfmpeg(
      [
        '-f', 'lavfi', '-i', `color=c=0x${bg.slice(1)}:s=${size}x${size}:r=${fps}:d=${d}`,
        '-loop', '1', '-framerate', String(fps), '-i', sprite,
        '-f', 'lavfi', '-i', `sine=frequency=${tone.toFixed(1)}:sample_rate=22050:duration=${d}`,
        '-filter_complex', `[0:v][1:v]overlay=x='${x0.toFixed(1)}+${vx.toFixed(2)}*t':y='${y0.toFixed(1)}+${vy.toFixed(2)}*t':shortest=1,format=yuv420p[v]`,
        '-map', '[v]', '-map', '2:a',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-c:a', 'aac', '-b:a', '64k',
        '-t', String(d), '-map_metadata', '-1', '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact',
        '-y', path,
      ],
      { what: 'the demo clip', timeoutMs: 60_000, onStdout: () => undefined },
    );
  } finally {
    rmSync(sprite, { force: true });
  }
}

/** Writes the file of `look` for `name` (its own stream of the seed) under dir; returns its path. */
export async function renderFile(dir: string, name: string, look: GenreLook, mediaType: MediaType, seed: number): Promise<string> {
  const rng = streamRng(seed, `demo-media/${name}`);
  if (mediaType === 'IMAGE') {
    const path = join(dir, `${name}.jpg`);
    writeFileSync(path, await renderImage(look, rng));
    return path;
  }
  const path = join(dir, `${name}.mp4`);
  await renderVideo(look, rng, path);
  return path;
}

// --- features ---------------------------------------------------------------------------------------------------

/** The part of the MediaService used: registerPost's media path. */
export type Extractor = Pick<MediaService, 'prepare'>;

export interface ExtractedFile {
  path: string;
  mediaType: MediaType;
  look: GenreLook;
  visual?: Float32Array;
  audio?: Float32Array;
  text?: Float32Array;
}

/**
 * The file's features through registerPost's media path (the installation's extractors): visual, audio for a video,
 * and text (the post's text and tags with what OCR reads) where the installation has a text model.
 */
export async function extractFile(extractor: Extractor, post: { id: string; mediaType: MediaType; text?: string; tags?: string[] }, path: string): Promise<Pick<ExtractedFile, 'visual' | 'audio' | 'text'>> {
  const out = await extractor.prepare({ ...post, media: { base64: readFileSync(path).toString('base64'), filename: path } }, 'demo');
  const f = out.features ?? {};
  const vec = (v: unknown) => (v instanceof Float32Array ? v : v ? Float32Array.from(v as ArrayLike<number>) : undefined);
  return { visual: vec(f.visual), ...(post.mediaType === 'VIDEO' ? { audio: vec(f.audio) } : {}), ...(f.text ? { text: vec(f.text) } : {}) };
}

/** Runs `work` over `items`, `jobs` at a time, in order of start; resolves the results in input order. */
async function pool<T, R>(items: readonly T[], jobs: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await work(items[k]);
    }
  }));
  return out;
}

/** Row i of the matrix set to v (zero-padded on the right; all zero, i.e. missing, without v). */
function setRow(m: FeatureMatrix, i: number, v: Float32Array | undefined): void {
  const row = new Float32Array(m.dim);
  if (v) row.set(v.subarray(0, m.dim));
  if (m.data instanceof Float32Array) m.data.set(row, i * m.dim);
  else m.data.set(floatsToHalves(row, new Uint16Array(m.dim)), i * m.dim);
}

export interface DemoMediaOptions {
  seed: number;
  genres?: number;
  imagesPerGenre?: number;
  videosPerGenre?: number;
  /** Also make try/<genre>.jpg and .mp4 (not registered). Default true. */
  tryFiles?: boolean;
  jobs?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface DemoMedia {
  dir: string;
  looks: GenreLook[];
  /** The posts given a file: dataset index -> the file and its features. */
  posts: Map<number, ExtractedFile>;
  /** The files to upload by hand, by genre. */
  tryFiles: ExtractedFile[];
  seconds: number;
}

/**
 * Gives part of the dataset's posts real media: generates their files under `dir`, extracts their features with
 * `extractor`, and writes them over the dataset's visual, audio and text rows (in memory; the caller writes or imports
 * the dataset): each such post then has what registerPost makes of its file, text, tags and aux. The dataset's visual
 * (and audio) width must be the extractor's.
 */
export async function withDemoMedia(ds: Dataset, dir: string, extractor: Extractor, o: DemoMediaOptions): Promise<DemoMedia> {
  const t0 = performance.now();
  const genres = demoGenres(ds, o.genres ?? DEMO_MEDIA.genres);
  const looks = genres.map((g, k) => genreLook(g, k, genres.length));
  const picks = pickDemoMedia(ds, looks, { IMAGE: o.imagesPerGenre ?? DEMO_MEDIA.imagesPerGenre, VIDEO: o.videosPerGenre ?? DEMO_MEDIA.videosPerGenre });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'try'), { recursive: true });
  const jobs = [
    ...picks.map((p) => ({ dir, name: ds.items.ids[p.i], look: p.look, mediaType: p.mediaType, i: p.i as number | null })),
    ...(o.tryFiles === false ? [] : looks.flatMap((look) => (['IMAGE', 'VIDEO'] as const).map((mediaType) => ({ dir: join(dir, 'try'), name: look.genre, look, mediaType, i: null })))),
  ];
  let done = 0;
  const files = await pool(jobs, o.jobs ?? DEMO_MEDIA.jobs, async (j): Promise<ExtractedFile> => {
    const path = await renderFile(j.dir, j.name, j.look, j.mediaType, o.seed);
    const post = j.i === null ? { id: `try-${j.name}`, mediaType: j.mediaType } : { id: j.name, mediaType: j.mediaType, text: ds.items.text[j.i], tags: itemTags(ds.items, j.i) };
    const f = await extractFile(extractor, post, path);
    o.onProgress?.(++done, jobs.length);
    return { path, mediaType: j.mediaType, look: j.look, ...f };
  });
  const posts = new Map<number, ExtractedFile>();
  picks.forEach((p, k) => posts.set(p.i, files[k]));
  // What registerPost makes of the post: its simulated text feature goes too (the extracted one only with a text
  // model of the dataset's width), as an upload of the file has none without one. aux is the uploader's own: kept.
  const { visual, audio, text } = ds.features;
  for (const [i, f] of posts) {
    if (visual) setRow(visual, i, f.visual);
    if (audio && f.mediaType === 'VIDEO') setRow(audio, i, f.audio);
    if (text) setRow(text, i, f.text?.length === text.dim ? f.text : undefined);
  }
  return { dir, looks, posts, tryFiles: files.slice(picks.length), seconds: (performance.now() - t0) / 1000 };
}
