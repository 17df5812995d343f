/**
 * The write paths that keep embeddings current, around the plain stores:
 * - register: compute the MEMER embeddings of the posts with the active models (micro-batched with concurrent
 *   uploads), store posts and vectors in one transaction, and put every new post into the built recommendation
 *   indexes, so it is recommendable when the mutation returns; a post with no active model for its media type is
 *   served from the baselines (TAG_AVG, GLOBAL_AVG).
 * - registerOne (registerPost): group commit. Uploads arriving while a write is in flight are written together in the
 *   next transaction, with one onnxruntime run (per merged group of models), instead of queueing one transaction
 *   each; the first upload of a quiet period goes after one event-loop turn, which lets the requests read in the same
 *   poll phase join it (groups of ~8 instead of ~5 at concurrency 16). On PostgreSQL up to PG_LANES groups are in
 *   flight at once (each its own transaction); SQLite has one writer. If a combined write fails (one upload
 *   conflicts), each upload of that group is retried alone, so an error reaches only the request that caused it.
 * - record: store interactions, then recompute the MEMER vector of posts whose views doubled (shouldRefresh).
 */
import type { Db } from '../data/db.js';
import { retryTransaction } from '../data/retry.js';
import type { Logger } from '../lib/logger.js';
import type { Catalog } from './catalog.js';
import { tagAverage, type BaselineCache } from './embeddings/baselines.js';
import { MemerService, shouldRefresh } from './embeddings/memer.service.js';
import { uploadFeatures, type Embedded } from './embeddings/predict.js';
import type { PostEmbeddingRow } from '../data/embeddings.js';
import type { InteractionInput, InteractionsService, RecordResult } from './interactions/interactions.service.js';
import type { Registered } from './loaders.js';
import type { ModelRegistry, Snapshot } from './models/registry.js';
import type { NormalizedPost, PostInput } from './posts/post.validation.js';
import type { PostsService, RegisterResult } from './posts/posts.service.js';
import type { Written } from './posts/post-records.js';
import type { PostIndex } from './recommend/post-index.js';
import type { PostRecord } from './types.js';
import { StaleModels, storedRows, writeUploadsDirect } from './uploads/write-direct.js';
import { writeUploadsPg } from './uploads/write-pg.js';

/**
 * Upload groups in flight at once on PostgreSQL, each its own transaction: a group's round trips overlap the next
 * group's inference, which matters most where the database is across a network. Against one lane, at c=16 on 2 cores
 * with a local database (`memer bench serve --set database=postgresql --set measured=3000`): with the Prisma write
 * that write-pg.ts replaced, p50 10.6-12.5 -> 8.6-11.7 ms and +5-25% posts/s (three alternating pairs); with
 * write-pg.ts's five round trips, within noise (three triples of 1, 2 and 3 lanes). SQLite has one writer: one lane
 * (two groups in flight made its p99 worse).
 */
const PG_LANES = 3;

/** Most uploads written in one group-commit transaction. */
const GROUP_MAX = 256;

/** A registration's result, with the MEMER vectors stored for a created post (the resolvers prime their loaders). */
export type UploadResult = RegisterResult & Registered;

export class UploadsService {
  readonly memer: MemerService;
  /** Group commit: uploads waiting for the next write, and the drain loop running while any are queued. */
  private readonly queue: { post: NormalizedPost; resolve: (r: UploadResult) => void; reject: (e: unknown) => void }[] = [];
  /** Drain loops running, each with at most one group in flight: one on SQLite (a single writer), more on PostgreSQL. */
  private draining = 0;
  /** A loop is waiting its one turn for a group to form: new uploads join that group rather than start a lane. */
  private forming = false;
  private readonly lanes: number;

  constructor(
    private readonly db: Db,
    private readonly posts: PostsService,
    private readonly interactions: InteractionsService,
    private readonly registry: ModelRegistry,
    private readonly index: PostIndex,
    private readonly baselines: BaselineCache,
    private readonly catalog: Catalog,
    logger: Logger,
  ) {
    this.memer = new MemerService(db, registry, logger);
    this.lanes = db.provider === 'postgresql' ? PG_LANES : 1;
  }

  async register(inputs: PostInput[], path?: string): Promise<UploadResult[]> {
    return this.write(inputs.map((input, i) => this.posts.normalize(input, inputs.length === 1 && path === 'input' ? path : `${path ?? 'inputs'}[${i}]`)));
  }

  /** One upload, written together with the uploads that arrive while a write is in flight. */
  registerOne(input: PostInput, path = 'input'): Promise<UploadResult> {
    const post = this.posts.normalize(input, path);
    return new Promise((resolve, reject) => {
      this.queue.push({ post, resolve, reject });
      this.kick();
    });
  }

  /**
   * Starts a drain loop unless all lanes run one; an upload queued while a loop winds down restarts one (no lost
   * wake-up). Uploads that arrive while every lane's group is in flight wait for the next group.
   */
  private kick(): void {
    if (this.forming || this.draining >= this.lanes) return;
    this.draining++;
    void this.drain().finally(() => {
      this.draining--;
      if (this.queue.length) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      // One event-loop turn first: uploads whose requests were read in the same poll phase join this group.
      this.forming = true;
      await new Promise((resolve) => setImmediate(resolve));
      this.forming = false;
      const group = this.queue.splice(0, GROUP_MAX);
      if (group.length === 0) break;
      try {
        const results = await this.write(group.map((g) => g.post));
        group.forEach((g, i) => g.resolve(results[i]));
      } catch (err) {
        if (group.length === 1) group[0].reject(err);
        else for (const g of group) await this.write([g.post]).then((r) => g.resolve(r[0]), g.reject);
      }
    }
  }

  /**
   * Predicts the MEMER vectors of the uploads, then writes the posts and their vectors in one transaction, so that a
   * post is never stored without them; the transaction also checks that the predicting versions are still active (an
   * activation in between means: re-sync the registry and predict again).
   */
  private async write(posts: NormalizedPost[]): Promise<UploadResult[]> {
    for (let attempt = 0; ; attempt++) {
      const snapshot = this.registry.current();
      const check = attempt < 2;
      const done = await this.writeOnce(posts, snapshot, check);
      if (!done) {
        await this.registry.sync();
        continue;
      }
      const { records, created: fresh, at: now, stored, out } = done;
      const results = posts.map((p) => ({ post: records.get(p.externalId)!, created: fresh.has(p.externalId) }));
      // One entry per post (a batch or a group may name a post twice).
      const byKey = new Map(results.map((r) => [r.post.key, r]));
      const created = [...byKey.values()].filter((r) => r.created).map((r) => r.post);
      await this.indexPosts(created, stored, now);
      // A stored post that lacks a vector for an active model (trained after it was registered, or a failure) is
      // embedded now, so a retry repairs it.
      const missing = await this.missingMemer([...byKey.values()].filter((r) => !r.created).map((r) => r.post));
      if (missing.length) await this.indexPosts(missing, await this.memer.embed(missing));
      // Predictions carry keys -(input index + 1).
      const memer = new Map<string, UploadResult['memer'][number][]>();
      for (const o of out) {
        const id = posts[-o.postKey - 1].externalId;
        memer.set(id, [...(memer.get(id) ?? []), { signalKey: o.signalKey, vector: o.vector, version: o.version, updatedAt: now }]);
      }
      return results.map((r) => ({ ...r, memer: r.created ? (memer.get(r.post.id) ?? []) : [] }));
    }
  }

  /** Predicts, then writes posts and vectors in one transaction; null when `check` found the models retired. */
  private async writeOnce(posts: NormalizedPost[], snapshot: Snapshot, check: boolean): Promise<(Written & { stored: PostEmbeddingRow[]; out: Embedded[] }) | null> {
    const features = new Map(posts.map((p, i) => [-(i + 1), uploadFeatures(p.features)]));
    const content = new Map(posts.map((p, i) => [-(i + 1), { text: p.text, tags: p.tags }]));
    const refs = posts.map((p, i) => ({ key: -(i + 1), mediaType: p.mediaType }));
    const { rows, out } = await this.memer.predict(refs, snapshot, this.db.prisma, { features, content });
    const direct = this.db.direct;
    try {
      if (direct) {
        // SQLite file: the direct connection's synchronous transaction (see data/direct-sqlite.ts).
        const { written, stored } = await direct.transaction(() => writeUploadsDirect(direct, posts, rows, check));
        return { ...written, stored, out };
      }
      const pg = this.db.pg;
      if (pg) {
        // PostgreSQL: plain SQL on the direct pool (see data/direct-postgres.ts); a unique violation (the same new id
        // registered at the same moment elsewhere) is retried and then takes the idempotent path.
        const { written, stored } = await retryTransaction(() => pg.transaction((tx) => writeUploadsPg(tx, posts, rows, check)));
        return { ...written, stored, out };
      }
      let result: (Written & { stored: PostEmbeddingRow[] }) | null = null;
      await this.posts.registerNormalized(posts, async (tx, written) => {
        if (check && rows.length > 0 && !(await this.db.stores.embeddings.stillActive(tx, rows))) throw new StaleModels();
        const stored = storedRows(rows, posts, written);
        await this.db.stores.embeddings.upsertPostEmbeddings(tx, stored, written.at);
        result = { ...written, stored };
      });
      return { ...result!, out };
    } catch (err) {
      if (err instanceof StaleModels) return null;
      throw err;
    }
  }

  /** Stored posts without a MEMER vector for some active model of their media type. */
  private async missingMemer(posts: PostRecord[]): Promise<PostRecord[]> {
    const models = [...this.registry.current().memer.values()];
    const candidates = posts.filter((p) => models.some((m) => m.mediaType === p.mediaType));
    if (candidates.length === 0) return [];
    const have = await this.db.prisma.postEmbedding.findMany({ where: { postId: { in: candidates.map((p) => p.key) }, source: 'MEMER' }, select: { postId: true, signalId: true } });
    const got = new Set(have.map((h) => `${h.postId}:${h.signalId}`));
    return candidates.filter((p) => models.some((m) => m.mediaType === p.mediaType && !got.has(`${p.key}:${m.signalKey}`)));
  }

  async record(inputs: InteractionInput[]): Promise<RecordResult> {
    const result = await this.interactions.record(inputs);
    const snapshot = this.registry.current();
    if (snapshot.memer.size === 0) return result;
    const postIds = [...new Set(inputs.map((i) => i.postId))];
    const rows = await this.db.prisma.post.findMany({
      where: { externalId: { in: postIds } },
      select: { id: true, mediaType: true, stats: { select: { signalId: true, total: true } }, embeddings: { where: { source: 'MEMER' }, select: { signalId: true, views: true } } },
    });
    const stale = rows
      .filter((p) => p.embeddings.some((e) => shouldRefresh(e.views, p.stats.find((s) => s.signalId === e.signalId)?.total ?? 0)))
      .map((p) => ({ key: p.id, mediaType: p.mediaType }));
    if (stale.length) await this.putAll(await this.memer.embed(stale, snapshot), stale);
    return result;
  }

  /**
   * Puts posts into the built recommendation indexes: by their MEMER vectors, and for signals without one by their
   * tag average, else the global average, so that every new post is recommendable. `memerAt`: when the posts and
   * vectors were stored (the rows a refresh then need not read back); absent when they were not stored just now.
   */
  private async indexPosts(posts: PostRecord[], embedded: readonly { postKey: number; signalKey: number; vector: Float32Array }[], memerAt?: Date): Promise<void> {
    await this.putAll(embedded, posts, memerAt);
    const signals = await this.catalog.signals();
    const have = new Set(embedded.map((e) => `${e.postKey}:${e.signalKey}`));
    for (const s of signals.values()) {
      const missing = posts.filter((p) => s.mediaTypes.includes(p.mediaType) && !have.has(`${p.key}:${s.key}`));
      if (missing.length === 0) continue;
      const averages = await this.baselines.averages(s.key);
      for (const post of missing) {
        const tag = tagAverage(averages, post.tags);
        const vector = tag ?? averages.global;
        if (vector) await this.index.put(s.key, post.key, post.mediaType, tag ? 'TAG_AVG' : 'GLOBAL_AVG', vector, undefined, post);
      }
    }
    if (memerAt) this.index.registered(posts);
  }

  private async putAll(embedded: readonly { postKey: number; signalKey: number; vector: Float32Array }[], posts: readonly (Pick<PostRecord, 'key' | 'mediaType'> & Partial<PostRecord>)[], storedAt?: Date): Promise<void> {
    const byKey = new Map(posts.map((p) => [p.key, p]));
    for (const e of embedded) {
      const post = byKey.get(e.postKey)!;
      // The id and tags, when known, spare experiment arms ranked by a baseline a read (post-index.ts, put).
      await this.index.put(e.signalKey, e.postKey, post.mediaType, 'MEMER', e.vector, storedAt, post.id !== undefined && post.tags ? { id: post.id, tags: post.tags } : undefined);
    }
  }
}
