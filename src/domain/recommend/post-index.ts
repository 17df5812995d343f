/**
 * The in-memory recommendation index: per signal, every post's AUTO embedding (MATURE, MEMER, TAG_AVG or GLOBAL_AVG,
 * see embeddings/source.ts) in a VectorStore, with the media type and serving source packed in one metadata byte.
 * Built from the database on first use; kept current by `put` (uploads handled by this process: recommendable when
 * the mutation returns) and by `refresh` (polled: vectors written since the last watermark by `memer train` or another
 * replica, and posts registered elsewhere). When the MATURE embeddings change (a retrain) the signal's index is
 * rebuilt in the background and swapped in whole, because every fallback average moves with them.
 */
import type { Prisma } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { Logger } from '../../lib/logger.js';
import type { OnnxRuntime } from '../../ml/onnx/runtime.js';
import { bytesToVector } from '../../lib/vectors.js';
import { VectorStore, type VectorStoreOptions } from '../../ml/retrieval/vector-store.js';
import { tagAverage, type BaselineCache } from '../embeddings/baselines.js';
import { autoSource } from '../embeddings/source.js';
import { MEDIA_BY_INDEX, type EmbeddingSource, type MediaType } from '../types.js';

const SOURCES: readonly EmbeddingSource[] = ['MEMER', 'MATURE', 'GLOBAL_AVG', 'TAG_AVG', 'RANDOM'];
/** How far back each refresh looks past its previous watermark (transactions in flight, small clock skew). */
const OVERLAP_MS = 5000;
/** Most posts one refresh read asks for. */
const LOAD_SLICE = 2000;

/** Metadata byte: bit 0 = media type (0 video, 1 image), bits 1-3 = index of the serving source in SOURCES. */
export const packMeta = (mediaType: MediaType, source: EmbeddingSource) => MEDIA_BY_INDEX.indexOf(mediaType) | (SOURCES.indexOf(source) << 1);
export const metaMediaType = (meta: number): MediaType => MEDIA_BY_INDEX[meta & 1];
export const metaSource = (meta: number): EmbeddingSource => SOURCES[(meta >> 1) & 7];

/** A row of the refresh window: a post key and the row's time stamp in ms. */
interface Stamped {
  key: number;
  at: number;
}

interface SignalIndex {
  store: VectorStore;
  /** Embedding rows and posts newer than this were not seen yet. */
  watermark: Date;
  matureStamp: string;
}

export class PostIndex {
  private readonly indexes = new Map<number, Promise<SignalIndex>>();
  /**
   * Per signal, rows the index already reflects, by post and stamp (embedding updatedAt, post registeredAt, in ms):
   * those an upload of this process put in, and those a build or refresh loaded inside the look-back window. A
   * refresh skips rows it finds with exactly those stamps instead of reading them back: every recent upload (at 300
   * uploads/s and 6 signals that was most of a core) and, after a start right behind a bulk import, every imported
   * post (seconds of event loop). A row written again has a new stamp and is read.
   */
  private readonly seen = new Map<number, Map<number, Set<number>>>();
  /** Counters for monitoring and tests: rows refreshes read back, and rows they skipped as already in the index. */
  readonly stats = { reread: 0, skippedSeen: 0 };

  constructor(
    private readonly prisma: Prisma,
    private readonly baselines: BaselineCache,
    private readonly logger: Logger,
    private readonly runtime: OnnxRuntime,
    private readonly storeOptions: Partial<Omit<VectorStoreOptions, 'dim' | 'runtime'>> = {},
    /** SQLite: the direct connection, for the refresh window's reads (thousands of rows every refresh under load). */
    private readonly direct?: DirectSqlite,
  ) {}

  /**
   * Builds the indexes of the signals that have user embeddings (trained ones), so that no request pays for it: at
   * 1M posts the HNSW build takes tens of seconds and blocks the event loop. The server calls this before listening.
   */
  async warm(): Promise<void> {
    const trained = await this.prisma.userEmbedding.findMany({ distinct: ['signalId'], select: { signalId: true } });
    for (const { signalId } of trained) await this.store(signalId);
  }

  /** The signal's index (built on first use). */
  async store(signalKey: number): Promise<VectorStore> {
    let index = this.indexes.get(signalKey);
    if (!index) {
      index = this.build(signalKey);
      this.indexes.set(signalKey, index);
      index.catch(() => this.indexes.delete(signalKey));
    }
    return (await index).store;
  }

  /**
   * Adds or replaces a post's vector in a built index (no-op for signals not built yet: they load it on build).
   * `covers`: the stored rows this vector reflects (see `seen`); a refresh then does not read them back.
   */
  async put(signalKey: number, postKey: number, mediaType: MediaType, source: EmbeddingSource, vector: Float32Array, covers: readonly Date[] = []): Promise<void> {
    const index = this.indexes.get(signalKey);
    if (!index) return;
    const { store } = await index;
    if (vector.length !== store.dim) return;
    store.upsert(postKey, vector, packMeta(mediaType, source));
    this.markSeen(signalKey, covers.map((d) => ({ key: postKey, at: d.getTime() })));
  }

  private markSeen(signalKey: number, rows: readonly Stamped[]): void {
    if (rows.length === 0) return;
    let seen = this.seen.get(signalKey);
    if (!seen) this.seen.set(signalKey, (seen = new Map()));
    for (const r of rows) {
      let stamps = seen.get(r.key);
      if (!stamps) seen.set(r.key, (stamps = new Set()));
      stamps.add(r.at);
    }
  }

  /** Brings every built index up to date with the database. */
  async refresh(): Promise<void> {
    const t0 = performance.now();
    const built = await Promise.all([...this.indexes].map(async ([signalKey, pending]) => ({ signalKey, index: await pending })));
    if (built.length === 0) return;
    // Overlap: rows stamped before this look but committed after it (a transaction in flight) are seen next time.
    const startedAt = new Date(Date.now() - OVERLAP_MS);
    // Posts registered since the oldest watermark, read once for every signal.
    const since = new Date(Math.min(...built.map((b) => b.index.watermark.getTime())));
    const newPosts = await this.registeredSince(since);
    const before = { ...this.stats };
    for (const { signalKey, index } of built) {
      const stamp = await this.matureStamp(signalKey);
      if (stamp !== index.matureStamp) {
        const rebuilt = await this.build(signalKey);
        this.indexes.set(signalKey, Promise.resolve(rebuilt));
        void index.store.dispose();
        this.logger.info('recommendation index rebuilt after a backbone change', { signal: signalKey, posts: rebuilt.store.size });
        continue;
      }
      const registered = newPosts.filter((p) => p.at > index.watermark.getTime());
      await this.load(signalKey, index, { since: index.watermark, registered, startedAt });
      index.watermark = startedAt; // after a successful load only: a failed one is retried from the same point
    }
    this.logger.debug('recommendation indexes refreshed', { ms: Math.round(performance.now() - t0), reread: this.stats.reread - before.reread, skippedSeen: this.stats.skippedSeen - before.skippedSeen });
  }

  /** Posts registered after `since` (key, registeredAt in ms). */
  private async registeredSince(since: Date): Promise<Stamped[]> {
    if (this.direct) {
      return this.direct.all<{ id: number; at: string }>(`SELECT "id", "registeredAt" AS "at" FROM "Post" WHERE "registeredAt" > ?`, sqliteDate(since)).map((r) => ({ key: r.id, at: Date.parse(r.at) }));
    }
    const rows = await this.prisma.post.findMany({ where: { registeredAt: { gt: since } }, select: { id: true, registeredAt: true } });
    return rows.map((r) => ({ key: r.id, at: r.registeredAt.getTime() }));
  }

  /** MATURE and MEMER vectors of the signal written after `since` (post key, updatedAt in ms). */
  private async changedSince(signalKey: number, since: Date): Promise<Stamped[]> {
    if (this.direct) {
      return this.direct
        .all<{ postId: number; at: string }>(`SELECT "postId", "updatedAt" AS "at" FROM "PostEmbedding" WHERE "signalId" = ? AND "updatedAt" > ? AND "source" IN ('MATURE', 'MEMER')`, signalKey, sqliteDate(since))
        .map((r) => ({ key: r.postId, at: Date.parse(r.at) }));
    }
    const rows = await this.prisma.postEmbedding.findMany({ where: { signalId: signalKey, updatedAt: { gt: since }, source: { in: ['MATURE', 'MEMER'] } }, select: { postId: true, updatedAt: true } });
    return rows.map((r) => ({ key: r.postId, at: r.updatedAt.getTime() }));
  }

  private async matureStamp(signalKey: number): Promise<string> {
    const agg = await this.prisma.postEmbedding.aggregate({ where: { signalId: signalKey, source: 'MATURE' }, _count: { _all: true }, _max: { updatedAt: true } });
    return `${agg._count._all}:${agg._max.updatedAt?.getTime() ?? 0}`;
  }

  private async build(signalKey: number): Promise<SignalIndex> {
    const t0 = performance.now();
    const averages = await this.baselines.averages(signalKey);
    const index: SignalIndex = { store: new VectorStore({ dim: averages.dim, ...this.storeOptions, runtime: this.runtime }), watermark: new Date(0), matureStamp: await this.matureStamp(signalKey) };
    const startedAt = new Date(Date.now() - OVERLAP_MS);
    // Rows of the look-back window, read before the load (so the load includes them): the first refresh skips them.
    const recent = [...(await this.registeredSince(startedAt)), ...(await this.changedSince(signalKey, startedAt))];
    await this.load(signalKey, index, null);
    this.markSeen(signalKey, recent);
    index.watermark = startedAt;
    this.logger.info('recommendation index built', { signal: signalKey, posts: index.store.size, approximate: index.store.approximate, ms: Math.round(performance.now() - t0) });
    return index;
  }

  /**
   * Loads into the index the posts registered, and embeddings written, after `window.since` (everything when null);
   * the caller then moves the watermark.
   */
  private async load(signalKey: number, index: SignalIndex, window: { since: Date; registered: Stamped[]; startedAt: Date } | null): Promise<void> {
    let keys: number[] | null = null;
    let fresh: Stamped[] = [];
    if (window) {
      const seen = this.seen.get(signalKey);
      const known = (row: Stamped) => seen?.get(row.key)?.has(row.at) ?? false;
      const found = [...(await this.changedSince(signalKey, window.since)), ...window.registered];
      fresh = found.filter((r) => !known(r));
      this.stats.skippedSeen += found.length - fresh.length;
      keys = [...new Set(fresh.map((r) => r.key))];
      this.stats.reread += keys.length;
      // Stamps older than the next watermark will not come back: forget them.
      for (const [postKey, stamps] of seen ?? []) {
        for (const t of stamps) if (t <= window.startedAt.getTime()) stamps.delete(t);
        if (stamps.size === 0) seen!.delete(postKey);
      }
    }
    if (keys && keys.length === 0) return;
    // A large catch-up (a bulk import elsewhere) goes in slices, so no single read blocks the event loop for long.
    if (keys && keys.length > LOAD_SLICE) {
      for (let i = 0; i < keys.length; i += LOAD_SLICE) await this.loadKeys(signalKey, index, keys.slice(i, i + LOAD_SLICE));
    } else await this.loadKeys(signalKey, index, keys);
    this.markSeen(signalKey, fresh);
  }

  /** Reads the posts `keys` (all when null) with their vectors and puts each under its AUTO source. */
  private async loadKeys(signalKey: number, index: SignalIndex, keys: number[] | null): Promise<void> {
    const signal = await this.prisma.signal.findUniqueOrThrow({ where: { id: signalKey } });
    const media = { VIDEO: signal.appliesToVideo, IMAGE: signal.appliesToImage };
    const inKeys = keys ? { id: { in: keys } } : {};
    const [posts, embeddings, stats, thresholds, averages] = await Promise.all([
      this.prisma.post.findMany({ where: inKeys, select: { id: true, mediaType: true, tags: { select: { tag: true } } } }),
      this.prisma.postEmbedding.findMany({ where: { signalId: signalKey, source: { in: ['MATURE', 'MEMER'] }, ...(keys ? { postId: { in: keys } } : {}) }, select: { postId: true, source: true, vector: true } }),
      this.prisma.postSignalStat.findMany({ where: { signalId: signalKey, ...(keys ? { postId: { in: keys } } : {}) }, select: { postId: true, total: true } }),
      this.prisma.maturityThreshold.findMany({ where: { signalId: signalKey } }),
      this.baselines.averages(signalKey),
    ]);
    const stored = new Map<string, Uint8Array>(embeddings.map((e) => [`${e.postId}:${e.source}`, e.vector]));
    const dim = index.store.dim;
    const rowKeys: number[] = [];
    const metas: number[] = [];
    const vectors = new Float32Array(posts.length * dim);
    const views = new Map(stats.map((s) => [s.postId, s.total]));
    const m = new Map(thresholds.map((t) => [t.mediaType, t.threshold]));
    for (const post of posts) {
      if (!media[post.mediaType]) continue;
      const threshold = m.get(post.mediaType);
      const tags = post.tags.map((t) => t.tag);
      const tagAvg = tagAverage(averages, tags);
      const source = autoSource({
        matureStage: threshold !== undefined && (views.get(post.id) ?? 0) >= threshold,
        mature: stored.has(`${post.id}:MATURE`),
        memer: stored.has(`${post.id}:MEMER`),
        tagAvg: tagAvg !== null,
        globalAvg: averages.global !== null,
      });
      if (!source) continue;
      const vector = source === 'TAG_AVG' ? tagAvg! : source === 'GLOBAL_AVG' ? averages.global! : bytesToVector(stored.get(`${post.id}:${source}`)!);
      if (vector.length !== dim) continue;
      vectors.set(vector, rowKeys.length * dim);
      rowKeys.push(post.id);
      metas.push(packMeta(post.mediaType, source));
    }
    // One bulk insert: a store crossing its HNSW threshold builds the graph once, on all cores.
    index.store.upsertMany(rowKeys, vectors.subarray(0, rowKeys.length * dim), metas);
  }
}
