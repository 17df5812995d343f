/**
 * The latent world of the synthetic platform: tags, creators, posts with latent factors, users with preferences.
 *
 * Glossary
 *   K        latent dimension = shared + visual + audio + text block sizes
 *   c_t      tag centre in R^K, N(0, I)
 *   f_p      post factors: tagInfluence * mean(c_t of p's tags) + sqrt(1 - tagInfluence^2) * N(0, I); audio block 0 for images
 *   u_u      user preferences, N(0, I / K) so that u . f has unit variance
 *   b_p      post bias (quality): 0.3 * z_creator + 0.3 * N(0, 1)
 *   z_c      creator quality, N(0, 1); log followers = 6 + 1.5 z_c + 0.7 N(0, 1)
 *   e_p      exposure weight: exp(popularitySigma * N(0, 1) + 0.5 z_c + (t_p - t_last) / freshness)
 */
import type { Rng } from '../../lib/random.js';
import { AliasTable, zipfWeights } from './sampling.js';
import type { SimulatorOptions } from './options.js';

export const DAY = 86400;

export interface Block {
  name: 'shared' | 'visual' | 'audio' | 'text';
  start: number;
  size: number;
}

export interface World {
  k: number;
  blocks: Block[];
  tagNames: string[];
  posts: {
    n: number;
    /** Epoch seconds, ascending (post index = creation order). */
    createdAt: Float64Array;
    /** 0 video, 1 image. */
    media: Uint8Array;
    tagOffsets: Int32Array;
    tagIds: Int32Array;
    /** n x k. */
    factors: Float32Array;
    bias: Float32Array;
    /** log seconds for videos, 0 for images. */
    logDuration: Float32Array;
    creatorLogFollowers: Float32Array;
    text: string[];
    /** Inclusive prefix sums of exposure weights, in creation order. */
    exposureCum: Float64Array;
  };
  users: { n: number; prefs: Float32Array; activity: Float64Array };
}

const TAG_WORDS = ['wishes', 'comedy', 'devotional', 'news', 'movies', 'music', 'cricket', 'love', 'shayari', 'motivation', 'food', 'fashion', 'travel', 'dance', 'kids', 'status', 'politics', 'health', 'tech', 'art'];
const OPENERS = ['Good morning', 'Watch this', 'So true', 'Must see', 'Hello friends', 'Today', 'Amazing', 'New'];

export function factorBlocks(o: SimulatorOptions): Block[] {
  const blocks: Block[] = [];
  let start = 0;
  for (const name of ['shared', 'visual', 'audio', 'text'] as const) {
    blocks.push({ name, start, size: o.factors[name] });
    start += o.factors[name];
  }
  return blocks;
}

export function buildWorld(o: SimulatorOptions, rng: Rng): World {
  const blocks = factorBlocks(o);
  const k = blocks.reduce((s, b) => s + b.size, 0);
  const audio = blocks[2];
  const tagNames = Array.from({ length: o.tags }, (_, t) => (t < TAG_WORDS.length ? TAG_WORDS[t] : `tag_${String(t + 1).padStart(3, '0')}`));
  const centers = new Float64Array(o.tags * k);
  for (let i = 0; i < centers.length; i++) centers[i] = rng.gaussian();
  const tagTable = new AliasTable(zipfWeights(o.tags, o.tagSkew));

  const nCreators = Math.max(1, Math.round(o.posts / 10));
  const creatorZ = Float64Array.from({ length: nCreators }, () => rng.gaussian());
  const creatorFollowers = Float32Array.from(creatorZ, (z) => 6 + 1.5 * z + 0.7 * rng.gaussian());
  const creatorTable = new AliasTable(zipfWeights(nCreators, o.creatorSkew));

  const n = o.posts;
  const span = o.days * DAY;
  const createdAt = Float64Array.from({ length: n }, () => Math.floor(rng.next() * span)).sort();
  const media = new Uint8Array(n);
  const tagOffsets = new Int32Array(n + 1);
  const tagIds: number[] = [];
  const factors = new Float32Array(n * k);
  const bias = new Float32Array(n);
  const logDuration = new Float32Array(n);
  const followers = new Float32Array(n);
  const text: string[] = [];
  const exposureCum = new Float64Array(n);
  const own = Math.sqrt(1 - o.tagInfluence ** 2);
  const mean = new Float64Array(k);
  let cum = 0;
  for (let p = 0; p < n; p++) {
    media[p] = rng.next() < o.videoShare ? 0 : 1;
    const extra = rng.next();
    const want = 1 + (extra < 0.5 ? 0 : extra < 0.85 ? 1 : 2);
    const tags: number[] = [];
    for (let tries = 0; tags.length < Math.min(want, o.tags) && tries < 20; tries++) {
      const t = tagTable.sample(rng);
      if (!tags.includes(t)) tags.push(t);
    }
    tagIds.push(...tags);
    tagOffsets[p + 1] = tagIds.length;
    mean.fill(0);
    for (const t of tags) for (let d = 0; d < k; d++) mean[d] += centers[t * k + d] / tags.length;
    for (let d = 0; d < k; d++) {
      const noImageAudio = media[p] === 1 && d >= audio.start && d < audio.start + audio.size;
      factors[p * k + d] = noImageAudio ? 0 : o.tagInfluence * mean[d] + own * rng.gaussian();
    }
    const c = creatorTable.sample(rng);
    bias[p] = 0.3 * creatorZ[c] + 0.3 * rng.gaussian();
    followers[p] = creatorFollowers[c];
    logDuration[p] = media[p] === 0 ? Math.log(30) + 0.8 * rng.gaussian() : 0;
    const opener = OPENERS[rng.int(OPENERS.length)];
    text.push(`${opener}, ${media[p] === 0 ? 'video' : 'photo'} ${p + 1} ${tags.map((t) => `#${tagNames[t]}`).join(' ')}`);
    const logExposure = o.popularitySigma * rng.gaussian() + 0.5 * creatorZ[c] + (createdAt[p] - span) / (o.freshnessDays * DAY);
    cum += Math.exp(Math.max(logExposure, -700));
    exposureCum[p] = cum;
  }

  const prefs = new Float32Array(o.users * k);
  const sd = 1 / Math.sqrt(k);
  for (let i = 0; i < prefs.length; i++) prefs[i] = sd * rng.gaussian();
  const ranks = rng.shuffle(Int32Array.from({ length: o.users }, (_, i) => i));
  const zipf = zipfWeights(o.users, o.userActivitySkew);
  const activity = Float64Array.from(ranks, (r) => zipf[r]);

  for (let p = 0; p < n; p++) createdAt[p] += o.start;
  return {
    k,
    blocks,
    tagNames,
    posts: { n, createdAt, media, tagOffsets, tagIds: Int32Array.from(tagIds), factors, bias, logDuration, creatorLogFollowers: followers, text, exposureCum },
    users: { n: o.users, prefs, activity },
  };
}
