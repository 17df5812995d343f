/**
 * `memer import DIR`: loads a dataset folder into the database. The folder is read and checked whole first (a
 * malformed row is a DatasetError with file and line; feature widths must match importRules: the configured ones, else
 * the active models', else the stored posts', else the dataset's own, feature-widths.ts), then one
 * transaction writes posts, users, interactions and statistics, and records the folder's digest: importing the same
 * folder again is a no-op, and a failure leaves nothing behind. Posts already registered with the same payload are
 * kept; a different payload under the same id is a CONFLICT. Signals the database does not know yet are created
 * (EXPLICIT, for the media types they occur on).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';
import { importRules, type FeatureRules } from '../posts/feature-widths.js';
import type { Db, Tx } from '../../data/db.js';
import { sqliteDate } from '../../data/direct-sqlite.js';
import type { Provider } from '../../data/provider.js';
import { isUniqueViolation, retryTransaction } from '../../data/retry.js';
import { DatasetError } from '../../datasets/errors.js';
import { featurePresence, featureRow } from '../../datasets/features.js';
import { itemTags } from '../../datasets/items.js';
import { readDataset } from '../../datasets/read.js';
import { MODALITIES, type Dataset, type Modality } from '../../datasets/types.js';
import { applyStatDeltas, ensureUsers, insertInteractions } from '../../data/prisma/interactions.js';
import { StatAccumulator } from '../../lib/stat-accumulator.js';
import { normalizePost, type NormalizedPost, type PostInput } from '../posts/post.validation.js';
import { writePosts } from '../posts/posts.service.js';
import { MEDIA_BY_INDEX, type MediaType } from '../types.js';

export interface ImportSummary {
  dataset: string;
  digest: string;
  alreadyImported: boolean;
  posts: { created: number; existing: number };
  users: number;
  interactions: number;
  signalsCreated: string[];
  seconds: number;
}

export type ImportProgress = (stage: string, done: number, total: number) => void;

const CHUNK = 50_000;

async function digestOf(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const files = ['items.csv', 'interactions.csv', 'users.csv'].map((f) => join(dir, f));
  if (existsSync(join(dir, 'features'))) files.push(...readdirSync(join(dir, 'features')).sort().map((f) => join(dir, 'features', f)));
  for (const file of files.filter((f) => existsSync(f))) {
    hash.update(file.slice(dir.length));
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

/**
 * A feature file is as wide as its widest media type (visual: 2208 for images, 2048 for videos); a narrower media
 * type's rows are zero past its own width (docs/datasets.md). Keep the expected width when the rest is zero.
 */
function usedColumns(row: Float32Array, dim: number | undefined): Float32Array {
  if (!dim || row.length <= dim) return row;
  for (let k = dim; k < row.length; k++) if (row[k] !== 0) return row;
  return row.subarray(0, dim);
}

/** Which items have each modality (an all-zero row is a missing modality). */
export function presenceOf(d: Dataset): Partial<Record<Modality, Uint8Array>> {
  return Object.fromEntries(Object.entries(d.features).map(([m, f]) => [m, featurePresence(f)]));
}

/** Item i of a dataset as a post registration (features cut to the expected width of its media type). */
export function itemAsPostInput(d: Dataset, i: number, rules: FeatureRules, present: Partial<Record<Modality, Uint8Array>>): PostInput {
  const media = MEDIA_BY_INDEX[d.items.mediaType[i]];
  const features: NonNullable<PostInput['features']> = {};
  for (const m of MODALITIES) {
    const f = d.features[m];
    if (f && present[m]?.[i]) features[m] = Array.from(usedColumns(featureRow(f, i), rules.features[media === 'VIDEO' ? 'video' : 'image'][m]));
  }
  return { id: d.items.ids[i], mediaType: media, tags: itemTags(d.items, i), text: d.items.text[i], createdAt: new Date(d.items.createdAt[i] * 1000), features };
}

/** Every item as a normalised registration (validated against `rules`). */
function* normalizedPosts(d: Dataset, rules: FeatureRules): Generator<NormalizedPost> {
  const present = presenceOf(d);
  for (let i = 0; i < d.items.ids.length; i++) {
    try {
      yield normalizePost(itemAsPostInput(d, i, rules, present), rules, `items.csv:${i + 2}`);
    } catch (err) {
      throw new DatasetError(join(d.name, 'items.csv'), i + 2, (err as Error).message);
    }
  }
}

export async function importDataset(db: Db, config: Config, dir: string, onProgress: ImportProgress = () => undefined): Promise<ImportSummary> {
  const t0 = performance.now();
  const digest = await digestOf(dir);
  const previous = await db.prisma.datasetImport.findUnique({ where: { digest } });
  if (previous) {
    return { dataset: previous.name, digest, alreadyImported: true, posts: { created: 0, existing: previous.posts }, users: previous.users, interactions: previous.interactions, signalsCreated: [], seconds: (performance.now() - t0) / 1000 };
  }
  const d = await readDataset(dir, { onProgress });
  const posts = [...normalizedPosts(d, await importRules(db.prisma, config, d))];

  // Which media types each signal occurs on, to create unknown signals and check known ones.
  const occurs = d.signals.map(() => new Set<MediaType>());
  const { signal, item } = d.interactions;
  for (let r = 0; r < d.interactions.length; r++) occurs[signal[r]].add(MEDIA_BY_INDEX[d.items.mediaType[item[r]]]);
  const known = new Map((await db.prisma.signal.findMany()).map((s) => [s.name, s]));
  for (const [k, name] of d.signals.entries()) {
    const s = known.get(name);
    for (const m of s ? occurs[k] : []) {
      if (!(m === 'VIDEO' ? s!.appliesToVideo : s!.appliesToImage)) throw new DatasetError(join(dir, 'interactions.csv'), 0, `signal ${name} does not apply to ${m} posts`);
    }
  }

  const summary = await retryTransaction(() => db.prisma.$transaction(
    async (tx) => {
      const t = tx as Tx;
      const signalsCreated: string[] = [];
      const signalKeys: number[] = [];
      for (const [k, name] of d.signals.entries()) {
        let s = known.get(name);
        if (!s) {
          s = await t.signal.create({ data: { name, kind: 'EXPLICIT', appliesToVideo: occurs[k].has('VIDEO'), appliesToImage: occurs[k].has('IMAGE'), description: `imported from ${d.name}` } });
          signalsCreated.push(name);
        }
        signalKeys.push(s.id);
      }
      const { keys: postKeys, existing, created: createdKeys } = await writeAllPosts(t, db.provider, posts, onProgress);
      const userKeys = (await ensureUsers(t, d.userIds)).keys;
      const userKey = d.userIds.map((id) => userKeys.get(id)!);
      const stats = new StatAccumulator();
      const { user, label, time, length } = d.interactions;
      // Chunks of 50,000 rows: one statement each (src/data/prisma/interactions.ts).
      for (let start = 0; start < length; start += CHUNK) {
        const rows = [];
        for (let r = start; r < Math.min(length, start + CHUNK); r++) {
          const at = new Date(time[r] * 1000);
          rows.push({ userId: userKey[user[r]], postId: postKeys[item[r]], signalId: signalKeys[signal[r]], label: label[r], timestamp: at });
          stats.add(postKeys[item[r]], signalKeys[signal[r]], label[r], at);
        }
        await insertInteractions(t, rows, db.provider);
        onProgress('writing interactions', Math.min(length, start + CHUNK), length);
      }
      await applyStatDeltas(t, db.provider, stats.deltas());
      const created = posts.length - existing;
      // Stamp the new posts at the end of this (long) transaction: servers poll for posts registered since their last
      // look, and a stamp from the start of an import would fall behind their watermark before it commits.
      const stamp = new Date();
      if (db.provider === 'sqlite') await t.$executeRawUnsafe(`UPDATE "Post" SET "registeredAt" = ? WHERE "id" IN (SELECT value FROM json_each(?))`, sqliteDate(stamp), JSON.stringify(createdKeys));
      else await t.$executeRawUnsafe(`UPDATE "Post" SET "registeredAt" = $1::timestamp(3) WHERE "id" = ANY($2::int[])`, stamp.toISOString(), createdKeys);
      await t.datasetImport.create({ data: { digest, name: d.name, posts: posts.length, users: d.userIds.length, interactions: length } });
      return { created, existing, signalsCreated };
    },
    { timeout: 30 * 60_000, maxWait: 60_000 },
  ), 2).catch(async (err: unknown) => {
    // The same folder imported twice at once: the loser finds the winner's digest.
    const winner = isUniqueViolation(err) ? await db.prisma.datasetImport.findUnique({ where: { digest } }) : null;
    if (!winner) throw err;
    return null;
  });
  if (!summary) {
    return { dataset: d.name, digest, alreadyImported: true, posts: { created: 0, existing: posts.length }, users: d.userIds.length, interactions: d.interactions.length, signalsCreated: [], seconds: (performance.now() - t0) / 1000 };
  }
  return {
    dataset: d.name,
    digest,
    alreadyImported: false,
    posts: { created: summary.created, existing: summary.existing },
    users: d.userIds.length,
    interactions: d.interactions.length,
    signalsCreated: summary.signalsCreated,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Writes the new posts in chunks; returns the internal key of every item (index = dataset item index). */
async function writeAllPosts(tx: Tx, provider: Provider, posts: NormalizedPost[], onProgress: ImportProgress): Promise<{ keys: number[]; existing: number; created: number[] }> {
  const keys = new Array<number>(posts.length);
  const created: number[] = [];
  let existing = 0;
  const CHUNK_POSTS = 500;
  for (let start = 0; start < posts.length; start += CHUNK_POSTS) {
    const chunk = posts.slice(start, start + CHUNK_POSTS);
    const written = await writePosts(tx, provider, chunk);
    existing += chunk.length - written.created.size;
    chunk.forEach((p, i) => {
      keys[start + i] = written.records.get(p.externalId)!.key;
      if (written.created.has(p.externalId)) created.push(keys[start + i]);
    });
    onProgress('writing posts', Math.min(posts.length, start + CHUNK_POSTS), posts.length);
  }
  return { keys, existing, created };
}
