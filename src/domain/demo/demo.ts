/**
 * The embedded default's demo platform. On an empty database `memer serve --demo` (npm start) simulates a small
 * platform (seeded, every modality; docs/simulator.md), imports it without its newest posts, trains and activates the
 * models, then uploads those newest posts through registerPost's own path, so they are brand new: no view, a MEMER
 * embedding, recommendable. Later starts find the data and reuse it. Either way it returns a query to paste.
 * A workflow over the services that `memer serve --demo` and `memer bench limits` run; the server only holds its
 * readiness until the CLI releases it.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
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
  if ((await prisma.post.count()) > 0) return { created: false, ...(await sampleUser(services)) };
  const t0 = performance.now();
  // The widths this installation takes (a new one: its built-in extractors'), so that raw media uploads fit the demo's models.
  const f = services.widths.current().features;
  say(`Creating the demo platform (${DEMO.posts} posts, ${DEMO.users} users, ~${DEMO.interactions / 1000}k interactions; once, about a minute or two)...`);
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
  );
  say(`  uploading ${held.length} brand-new posts...`);
  const present = presenceOf(dataset);
  await services.uploads.register(held.map((i) => brandNewPost(services, dataset, i, present)));
  logger.info('demo platform ready', { seconds: Math.round((performance.now() - t0) / 1000) });
  return { created: true, ...(await sampleUser(services)) };
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
 * (experiments/replay.ts) round by round.
 */
export async function simulatedPlatform(
  services: Services,
  dir: string,
  simulator: SimulatorOverrides,
  holdOut: number,
  train: TrainOptions,
  say: (line: string) => void,
  onTrainProgress?: Parameters<typeof trainOnDatabase>[2],
): Promise<SimulatedPlatform> {
  await simulate(dir, simulator);
  const ds = await readDataset(dir);
  const order = Array.from(ds.items.createdAt.keys()).sort((a, b) => ds.items.createdAt[b] - ds.items.createdAt[a]);
  const held = order.slice(0, holdOut).reverse();
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
