/**
 * The embedded default's demo platform. On an empty database `memer serve --demo` (npm start) simulates a small
 * platform (seeded, every modality; docs/simulator.md), gives part of its posts real generated media whose look and
 * sound follow their genre, with the features the built-in extractors make of them (demo-media.ts), imports it
 * without its newest posts, trains and activates the models, then uploads those newest posts through registerPost's
 * own path (their files as raw media where they have one), so they are brand new: no view, a MEMER embedding,
 * recommendable. Later starts find the data and reuse it. Either way it returns a query to paste.
 * A workflow over the services that `memer serve --demo` and `memer bench limits` run; the server only holds its
 * readiness until the CLI releases it.
 */
import { join } from 'node:path';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { readDataset } from '../../datasets/read.js';
import { selectItems } from '../../datasets/select.js';
import { simulate, type SimulatorOverrides } from '../../datasets/simulator/index.js';
import type { Dataset } from '../../datasets/types.js';
import { writeDataset } from '../../datasets/write.js';
import { importDataset, itemAsPostInput, presenceOf } from '../imports/import.service.js';
import type { Services } from '../services.js';
import { activateVersion } from '../training/activation.js';
import { trainOnDatabase, type TrainOptions, type TrainSummary } from '../training/train.service.js';
import type { PostInput } from '../posts/post.validation.js';
import type { Logger } from '../../lib/logger.js';
import type { MediaType } from '../types.js';
import type { MediaPostInput } from '../media/media.service.js';
import { predictVectors } from '../embeddings/predict.js';
import { floatsToHalves, halvesToFloats } from '../../lib/float16.js';
import { bytesToVector } from '../../lib/vectors.js';
import { withDemoMedia, type DemoMedia } from './demo-media.js';

export const DEMO = Object.freeze({
  /** simulator seed: the same demo on every machine */
  seed: 42,
  users: 1500,
  posts: 2000,
  interactions: 150_000,
  /** newest posts held out of the import and uploaded after training, as brand-new posts */
  newPosts: 12,
  /** the signal of the sample query */
  signal: 'click',
});

export interface DemoInfo {
  created: boolean;
  query: SampleQuery | null;
  newPosts: string[];
}

export async function prepareDemo(services: Services, dataDir: string, logger: Logger, say: (line: string) => void): Promise<DemoInfo> {
  const { prisma } = services.db;
  if ((await prisma.post.count()) > 0) {
    if (existsSync(join(dataDir, 'demo-media', 'try'))) say(`Demo media files (the try/ ones are not registered, to upload yourself): ${join(dataDir, 'demo-media')}`);
    return { created: false, ...(await sampleUser(services)) };
  }
  const t0 = performance.now();
  // The widths this installation takes (a new one: its built-in extractors'), so that raw media uploads fit the demo's models.
  const f = services.widths.current().features;
  say(`Creating the demo platform (${DEMO.posts} posts, ${DEMO.users} users, ~${DEMO.interactions / 1000}k interactions; once, about a minute or two)...`);
  const mediaDir = join(dataDir, 'demo-media');
  const noMedia = demoMediaRefusal(services);
  let media: DemoMedia | null = null;
  const { dataset, held } = await simulatedPlatform(
    services,
    join(dataDir, 'demo-platform'),
    {
      seed: DEMO.seed,
      users: DEMO.users,
      posts: DEMO.posts,
      interactions: DEMO.interactions,
      dims: { videoVisual: f.video.visual ?? 0, imageVisual: f.image.visual ?? 0, audio: f.video.audio ?? 0, text: f.video.text ?? f.image.text ?? 0 },
      writeLatent: false,
    },
    DEMO.newPosts,
    { seed: DEMO.seed },
    say,
    undefined,
    async (ds) => {
      if (noMedia) return say(`  no real media for the demo: ${noMedia}`);
      say('  generating real media for part of the posts and extracting their features...');
      media = await withDemoMedia(ds, mediaDir, services.media, { seed: DEMO.seed });
      const videos = [...media.posts.values()].filter((f) => f.mediaType === 'VIDEO').length;
      say(`  ${media.posts.size - videos} images and ${videos} videos of ${media.looks.length} genres in ${media.dir}, their features by the built-in extractors (${media.seconds.toFixed(1)} s)`);
    },
  );
  say(`  uploading ${held.length} brand-new posts...`);
  const present = presenceOf(dataset);
  const made = media as DemoMedia | null;
  const uploads = held.map((i): MediaPostInput => {
    const post = brandNewPost(services, dataset, i, present);
    const file = made?.posts.get(i);
    if (!file) return post;
    // Its file as raw media, as an uploader sends it: the service extracts the visual (and audio) features itself.
    const { visual: _v, audio: _a, ...features } = post.features ?? {};
    return { ...post, features, media: { base64: readFileSync(file.path).toString('base64'), filename: file.path } };
  });
  await services.uploads.register(await services.media.prepareAll(uploads));
  if (made) {
    const fans = await tryFileUsers(services, made);
    say(`  not registered, to upload yourself (README, "A first session with curl"): ${join(made.dir, 'try')}/<genre>.jpg or .mp4`);
    const reach = made.looks.filter((l) => fans.get(l.genre)?.enters).map((l) => `${l.genre} ${fans.get(l.genre)!.userId}`);
    if (reach.length) say(`    a <genre>.jpg uploaded as it is enters the top 10 of recommendations(stage: EARLY, mediaType: IMAGE) of: ${reach.join(', ')}`);
  }
  logger.info('demo platform ready', { seconds: Math.round((performance.now() - t0) / 1000) });
  return { created: true, ...(await sampleUser(services)) };
}

/**
 * Per genre, a user whose top-10 early-stage image recommendations its try/<genre>.jpg would enter once uploaded as
 * it is (media only): the file's MEMER vector under the active image model is scored against every user embedding
 * (v_user . v_post, as recommendations rank), and for the 25 best-scoring users compared with their current 10th
 * early-stage image; the user with the largest margin (null without an active image model or user embeddings).
 */
async function tryFileUsers(services: Services, media: DemoMedia): Promise<Map<string, { userId: string; enters: boolean } | null>> {
  const out = new Map<string, { userId: string; enters: boolean } | null>(media.looks.map((l) => [l.genre, null]));
  const model = [...services.registry.current().memer.values()].find((m) => m.signal === DEMO.signal && m.mediaType === 'IMAGE');
  const tries = media.tryFiles.filter((f) => f.mediaType === 'IMAGE' && f.visual);
  if (!model || tries.length === 0) return out;
  const refs = tries.map((_, k) => ({ key: -(k + 1), mediaType: 'IMAGE' as const }));
  const { out: vectors } = await predictVectors(
    [model],
    refs,
    // Stored as float16, as an upload's features are.
    new Map(tries.map((f, k) => [-(k + 1), { visual: halvesToFloats(floatsToHalves(f.visual!, new Uint16Array(f.visual!.length))) }])),
    new Map(),
    [],
    new Map(refs.map((r) => [r.key, { text: '', tags: [] }])),
  );
  const users = (await services.db.prisma.userEmbedding.findMany({ where: { signal: { name: DEMO.signal } }, select: { vector: true, user: { select: { externalId: true } } } }))
    .map((u) => ({ id: u.user.externalId, vector: bytesToVector(u.vector) }));
  const loaders = services.loaders();
  for (const e of vectors) {
    const genre = tries[-e.postKey - 1].look.genre;
    const scored = users.filter((u) => u.vector.length === e.vector.length).map((u) => ({ id: u.id, score: u.vector.reduce((s, x, k) => s + x * e.vector[k], 0) }));
    scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    let best: { userId: string; enters: boolean; margin: number } | null = null;
    for (const u of scored.slice(0, 25)) {
      const recs = await services.recommendations.recommend({ userId: u.id, signal: DEMO.signal, first: 10, stage: 'EARLY', mediaType: 'IMAGE' }, loaders);
      const margin = u.score - (recs.length < 10 ? -Infinity : recs[9].score);
      if (!best || margin > best.margin) best = { userId: u.id, enters: margin > 0, margin };
    }
    out.set(genre, best && { userId: best.userId, enters: best.enters });
  }
  return out;
}

/** Why the demo cannot give its posts real media here (extractors off, other widths configured), or null. */
function demoMediaRefusal(services: Services): string | null {
  if (!services.media.enabled) return 'MEMER_EXTRACTORS=off';
  const f = services.widths.current().features;
  const { visual, audio } = services.media.dims;
  if (f.image.visual !== visual || f.video.visual !== visual || f.video.audio !== audio) {
    return `the installation's widths (video visual ${f.video.visual}, audio ${f.video.audio}, image visual ${f.image.visual}) are not the extractors' (${visual}, ${audio})`;
  }
  return null;
}

export interface SimulatedPlatform {
  dataset: Dataset;
  /** Dataset indices of the posts held out of the import, oldest first: brand new to the trained models. */
  held: number[];
  trained: TrainSummary;
}

/**
 * Simulates a platform into `dir`, imports it without its `holdOut` newest posts, then trains and activates the models
 * as `memer train --activate` does. The demo uploads the held-out posts at once; the experiment replay
 * (experiments/replay.ts) round by round. `beforeImport` may change the dataset in memory first (the demo's real media
 * features); the held-out posts keep what it wrote.
 */
export async function simulatedPlatform(
  services: Services,
  dir: string,
  simulator: SimulatorOverrides,
  holdOut: number,
  train: TrainOptions,
  say: (line: string) => void,
  onTrainProgress?: Parameters<typeof trainOnDatabase>[2],
  beforeImport?: (ds: Dataset, held: readonly number[]) => Promise<void>,
): Promise<SimulatedPlatform> {
  await simulate(dir, simulator);
  const ds = await readDataset(dir);
  const order = Array.from(ds.items.createdAt.keys()).sort((a, b) => ds.items.createdAt[b] - ds.items.createdAt[a]);
  const held = order.slice(0, holdOut).reverse();
  await beforeImport?.(ds, held);
  const heldSet = new Set(held);
  const keep = Uint8Array.from(ds.items.ids, (_, i) => (heldSet.has(i) ? 0 : 1));
  const importDir = `${dir}-import`;
  await writeDataset(importDir, selectItems(ds, keep));
  const imported = await importDataset(services.db, services.config, importDir);
  rmSync(importDir, { recursive: true, force: true });
  say(`  imported ${imported.posts.created} posts and ${imported.interactions} interactions; training...`);
  const trained = await trainOnDatabase(services, train, onTrainProgress);
  for (const v of trained.versions.filter((x) => x.kind === 'FFM')) await activateVersion(services, v.version);
  say(`  trained and activated ${trained.versions.length} model versions (${trained.run})`);
  return { dataset: ds, held, trained };
}

/** Item i of the platform as an upload happening now, with its content features (registerPost's input). */
export function brandNewPost(services: Services, ds: Dataset, i: number, present: ReturnType<typeof presenceOf>): PostInput {
  return { ...itemAsPostInput(ds, i, services.widths.current(), present), createdAt: new Date() };
}

/** Arguments of the sample recommendations query. */
export interface SampleQuery {
  userId: string;
  stage: 'EARLY' | null;
  mediaType: MediaType | null;
}

/**
 * A user (and filter) whose top-10 recommendations include brand-new posts (registered after the last activation),
 * for the sample query: all posts first, then early-stage posts of one media type, where the new ones compete.
 */
async function sampleUser(services: Services): Promise<{ query: SampleQuery | null; newPosts: string[] }> {
  const { prisma } = services.db;
  const lastTraining = await prisma.modelVersion.findFirst({ where: { active: true }, orderBy: { activatedAt: 'desc' }, select: { activatedAt: true } });
  const fresh = await prisma.post.findMany({ where: { registeredAt: { gt: lastTraining?.activatedAt ?? new Date(0) } }, select: { externalId: true, mediaType: true } });
  const newPosts = fresh.map((p) => p.externalId);
  const candidates = await prisma.userEmbedding.findMany({ where: { signal: { name: DEMO.signal } }, take: 200, select: { user: { select: { externalId: true } } } });
  if (candidates.length === 0) return { query: null, newPosts };
  const loaders = services.loaders();
  const filters: Omit<SampleQuery, 'userId'>[] = [{ stage: null, mediaType: null }, ...[...new Set(fresh.map((p) => p.mediaType))].map((m) => ({ stage: 'EARLY' as const, mediaType: m }))];
  for (const filter of filters) {
    for (const c of candidates) {
      const recs = await services.recommendations.recommend({ userId: c.user.externalId, signal: DEMO.signal, first: 10, ...filter }, loaders);
      if (recs.some((r) => newPosts.includes(r.post.id))) return { query: { userId: c.user.externalId, ...filter }, newPosts };
    }
  }
  return { query: { userId: candidates[0].user.externalId, stage: null, mediaType: null }, newPosts };
}

export function sampleQuery(url: string, q: SampleQuery): string {
  const filters = `${q.stage ? `, stage: ${q.stage}` : ''}${q.mediaType ? `, mediaType: ${q.mediaType}` : ''}`;
  const query = `{ recommendations(userId: \\"${q.userId}\\", signal: \\"${DEMO.signal}\\", first: 10${filters}) { post { id mediaType createdAt } score source } }`;
  return `curl -s ${url} -H 'content-type: application/json' -d '{"query":"${query}"}'`;
}
