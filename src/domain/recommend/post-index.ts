/**
 * The in-memory recommendation index: per signal, every post's AUTO embedding (MATURE, MEMER, TAG_AVG or GLOBAL_AVG,
 * see embeddings/source.ts) in a VectorStore, with the media type and serving source packed in one metadata byte.
 * Built from the database on first use; kept current by `put` (uploads handled by this process: recommendable when
 * the mutation returns) and by `refresh` (polled: vectors written since the last watermark by `memer train` or another
 * replica, and posts registered elsewhere). When the MATURE embeddings change (a retrain) the signal's index is
 * rebuilt in the background and swapped in whole, because every fallback average moves with them.
 */
import type { Prisma } from '../../data/db.js';
import type { RecommendationReads, StampCount } from '../../data/recommend-reads.js';
import type { Logger } from '../../lib/logger.js';
import type { OnnxRuntime } from '../../ml/onnx/runtime.js';
import { bytesToVector } from '../../lib/vectors.js';
import { VectorStore, type VectorStoreOptions } from '../../ml/retrieval/vector-store.js';
import { retireLater } from './retire.js';
import { matureStamp, randomEmbedding, tagAverage, type BaselineCache } from '../embeddings/baselines.js';
import { autoSource } from '../embeddings/source.js';
import type { EmbeddingSource, MediaType } from '../types.js';
import { ArmVariant, armServing, type VariantSource } from './arm-variant.js';
import { packMeta } from './index-meta.js';
import { SeenStamps, type Stamped } from './seen-stamps.js';

/** How far back each refresh looks past its previous watermark (transactions in flight, small clock skew). */
const OVERLAP_MS = 5000;
/** Most posts one refresh read asks for. */
const LOAD_SLICE = 2000;

export { packMeta, metaMediaType, metaSource } from './index-meta.js';

interface SignalIndex {
  store: VectorStore;
  /** Embedding rows and posts newer than this were not seen yet. */
  watermark: Date;
  matureStamp: string;
  /**
   * Rows of the look-back window this index reflects. Per index, not per signal: while a rebuild reads the database,
   * uploads still go into the index it replaces, and a post the new one missed must not count as seen there.
   */
  seen: Seen;
  /** Experiment arms ranked by a baseline (arm-variant.ts), built on first use and kept current with the index. */
  variants: Map<VariantSource, ArmVariant>;
}

/**
 * Rows of the look-back window a signal's index already reflects: posts by registeredAt, vectors by updatedAt. Those
 * an upload of this process put in, and those a build or refresh loaded. A refresh compares the database's count of
 * rows per stamp with these and reads back only the stamps that differ: under upload load every row of the window
 * is one this process wrote, and reading them all back took most of a core at 300 uploads/s (6 signals), then
 * 15-40 ms of event loop per refresh at 1,000/s. A row written again gets a new stamp, which differs.
 * Blind spot, accepted: another writer committing a row under exactly the stamp (to the ms) of one this process
 * wrote, while a row this process saw under that stamp was rewritten since; the counts then agree.
 */
interface Seen {
  posts: SeenStamps;
  vectors: SeenStamps;
}

/** Starts the index's next window at `to`, forgetting the seen stamps it leaves behind. */
function moveWindow(index: SignalIndex, to: Date): void {
  index.watermark = to;
  index.seen.posts.forgetUpTo(to.getTime());
  index.seen.vectors.forgetUpTo(to.getTime());
}

/** Rows of a refresh window an index does not reflect yet. */
interface Fresh {
  posts: Stamped[];
  vectors: Stamped[];
}

export class PostIndex {
  private readonly indexes = new Map<number, Promise<SignalIndex>>();
  /** Counters for monitoring and tests: rows refreshes read back, and rows they skipped as already in the index. */
  readonly stats = { reread: 0, skippedSeen: 0 };

  constructor(
    private readonly prisma: Prisma,
    /** The refresh window's reads (every refresh, on the event loop): db.stores.recommendations. */
    private readonly reads: RecommendationReads,
    private readonly baselines: BaselineCache,
    private readonly logger: Logger,
    private readonly runtime: OnnxRuntime,
    private readonly storeOptions: Partial<Omit<VectorStoreOptions, 'dim' | 'runtime'>> = {},
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
    return (await this.signalIndex(signalKey)).store;
  }

  /**
   * What ranks for an experiment arm: the signal's index, and for an arm ranked by a baseline its variant (built on
   * first use, from the same index: a rebuild swapping the index in meanwhile leaves this pair consistent).
   */
  async ranking(signalKey: number, arm?: VariantSource | null): Promise<{ store: VectorStore; variant: ArmVariant | null }> {
    const index = await this.signalIndex(signalKey);
    if (!arm) return { store: index.store, variant: null };
    const variant = index.variants.get(arm) ?? this.addVariant(signalKey, index, arm);
    await variant.ready;
    return { store: index.store, variant };
  }

  /**
   * The variants running experiments need, per signal: builds the missing ones of the indexes already built (in the
   * background; an index not built yet builds its variants on first use), disposes those no experiment needs.
   */
  useVariants(needed: ReadonlyMap<number, ReadonlySet<VariantSource>>): void {
    for (const [signalKey, pending] of this.indexes) {
      void pending.then(
        (index) => {
          const want = needed.get(signalKey) ?? new Set<VariantSource>();
          for (const [source, variant] of index.variants) {
            if (want.has(source)) continue;
            index.variants.delete(source);
            retireLater(() => variant.dispose());
          }
          for (const source of want) if (!index.variants.has(source)) this.addVariant(signalKey, index, source).ready.catch(() => undefined);
        },
        () => undefined,
      );
    }
  }

  private signalIndex(signalKey: number): Promise<SignalIndex> {
    let index = this.indexes.get(signalKey);
    if (!index) {
      index = this.build(signalKey);
      this.indexes.set(signalKey, index);
      index.catch(() => this.indexes.delete(signalKey));
    }
    return index;
  }

  /** A new variant of a built index, filled from the database in the background (`ready`). */
  private addVariant(signalKey: number, index: SignalIndex, source: VariantSource): ArmVariant {
    const variant = new ArmVariant(source, { dim: index.store.dim, ...this.storeOptions, runtime: this.runtime });
    index.variants.set(source, variant);
    const t0 = performance.now();
    variant.ready = this.loadKeys(signalKey, index, null, [variant]).then(
      () => this.logger.info('experiment arm index built', { signal: signalKey, source, posts: variant.store.size, ms: Math.round(performance.now() - t0) }),
      (err: unknown) => {
        if (index.variants.get(source) === variant) index.variants.delete(source);
        throw err;
      },
    );
    return variant;
  }

  /**
   * Adds or replaces a post's vector in a built index (no-op for signals not built yet: they load it on build).
   * `storedAt`: the updatedAt of the stored vector this is (MEMER written by an upload), which a refresh then does not
   * read back.
   */
  async put(
    signalKey: number,
    postKey: number,
    mediaType: MediaType,
    source: EmbeddingSource,
    vector: Float32Array,
    storedAt?: Date,
    /** The post's id and tags, which experiment arms ranked by a baseline need (read from the database if absent). */
    post?: { id: string; tags: readonly string[] },
  ): Promise<void> {
    const pending = this.indexes.get(signalKey);
    if (!pending) return;
    const index = await pending;
    const { store, seen } = index;
    if (vector.length !== store.dim) return;
    store.upsert(postKey, vector, packMeta(mediaType, source));
    if (storedAt) seen.vectors.add([{ key: postKey, at: storedAt.getTime() }]);
    if (index.variants.size) await this.putVariants(signalKey, index, postKey, mediaType, source, post);
  }

  private async putVariants(signalKey: number, index: SignalIndex, postKey: number, mediaType: MediaType, auto: EmbeddingSource, post?: { id: string; tags: readonly string[] }): Promise<void> {
    const facts =
      post ??
      (await this.prisma.post.findUnique({ where: { id: postKey }, select: { externalId: true, tags: { select: { tag: true } } } }).then((p) => p && { id: p.externalId, tags: p.tags.map((t) => t.tag) }));
    if (!facts) return;
    const averages = await this.baselines.averages(signalKey);
    if (averages.dim !== index.store.dim) return;
    const signal = await this.signalName(signalKey);
    const tagAvg = tagAverage(averages, facts.tags);
    for (const variant of index.variants.values()) {
      variant.set(postKey, mediaType, armServing(variant.source, { auto, tagAvg, global: averages.global, random: () => randomEmbedding(facts.id, signal, index.store.dim) }));
    }
  }

  private readonly signalNames = new Map<number, Promise<string>>();
  private signalName(signalKey: number): Promise<string> {
    let name = this.signalNames.get(signalKey);
    if (!name) {
      name = this.prisma.signal.findUniqueOrThrow({ where: { id: signalKey }, select: { name: true } }).then((s) => s.name);
      this.signalNames.set(signalKey, name);
      name.catch(() => this.signalNames.delete(signalKey));
    }
    return name;
  }

  /**
   * Posts this process registered and has put into every index that serves their media type (or found no vector
   * for): no refresh needs to read them back. Marked in every index, the other media's included.
   */
  registered(posts: readonly { key: number; registeredAt: Date }[]): void {
    const rows = posts.map((p) => ({ key: p.key, at: p.registeredAt.getTime() }));
    for (const index of this.indexes.values()) void index.then(({ seen }) => seen.posts.add(rows), () => undefined);
  }

  /**
   * Moves every built index's window on without reading the database. For a refresh that knows no other connection
   * has committed since the last one (SQLite's data_version): then every row stamped after the windows' starts was
   * either checked by that refresh or written by this process's own connection (uploads, which put their posts into
   * the indexes themselves). Forgets the seen stamps the windows leave behind, as a refresh does.
   */
  async advance(): Promise<void> {
    const startedAt = new Date(Date.now() - OVERLAP_MS);
    for (const pending of [...this.indexes.values()]) {
      const index = await pending;
      if (startedAt > index.watermark) moveWindow(index, startedAt);
    }
  }

  /**
   * The built indexes (those still building are left out): posts held, where the next refresh starts, and the
   * experiment arms' variants with their rows (metrics).
   */
  async built(): Promise<{ signalKey: number; posts: number; approximate: boolean; watermark: Date; variants: { source: VariantSource; rows: number }[] }[]> {
    const out = [];
    for (const [signalKey, pending] of [...this.indexes]) {
      const index = await Promise.race([pending, null]).catch(() => null);
      if (index) {
        const variants = [...index.variants.values()].map((v) => ({ source: v.source, rows: v.store.size }));
        out.push({ signalKey, posts: index.store.size, approximate: index.store.approximate, watermark: index.watermark, variants });
      }
    }
    return out;
  }

  /** Brings every built index up to date with the database. */
  async refresh(): Promise<void> {
    const t0 = performance.now();
    const built = await Promise.all([...this.indexes].map(async ([signalKey, pending]) => ({ signalKey, index: await pending })));
    if (built.length === 0) return;
    // Overlap: rows stamped before this look but committed after it (a transaction in flight) are seen next time.
    const startedAt = new Date(Date.now() - OVERLAP_MS);
    // Posts registered since the oldest watermark, counted once for every signal.
    const postCounts = await this.reads.postCounts(new Date(Math.min(...built.map((b) => b.index.watermark.getTime()))));
    const before = { ...this.stats };
    for (const { signalKey, index } of built) {
      const stamp = await matureStamp(this.prisma, signalKey);
      if (stamp !== index.matureStamp) {
        const rebuilt = await this.build(signalKey, [...index.variants.keys()]);
        this.indexes.set(signalKey, Promise.resolve(rebuilt));
        retireLater(() => index.store.dispose());
        for (const variant of index.variants.values()) retireLater(() => variant.dispose());
        this.logger.info('recommendation index rebuilt after a backbone change', { signal: signalKey, posts: rebuilt.store.size });
        continue;
      }
      const fresh = await this.unseen(signalKey, index, postCounts);
      await this.load(signalKey, index, fresh);
      moveWindow(index, startedAt); // after a successful load only: a failed one is retried from the same point
    }
    this.logger.debug('recommendation indexes refreshed', { ms: Math.round(performance.now() - t0), reread: this.stats.reread - before.reread, skippedSeen: this.stats.skippedSeen - before.skippedSeen });
  }

  /** Rows of the index's window (after its watermark) it does not reflect yet: reads only stamps whose counts differ. */
  private async unseen(signalKey: number, { watermark: since, seen }: SignalIndex, postCounts: readonly StampCount[]): Promise<Fresh> {
    const differing = (counts: readonly StampCount[], stamps: SeenStamps) => {
      const inWindow = counts.filter((c) => c.at > since.getTime());
      const out = inWindow.filter((c) => c.n !== stamps.count(c.at));
      this.stats.skippedSeen += inWindow.reduce((n, c) => n + c.n, 0) - out.reduce((n, c) => n + c.n, 0);
      return out;
    };
    const unseenOf = (rows: Stamped[], stamps: SeenStamps) => {
      const out = rows.filter((r) => !stamps.has(r));
      this.stats.skippedSeen += rows.length - out.length;
      return out;
    };
    const posts = differing(postCounts, seen.posts);
    const vectors = differing(await this.reads.vectorCounts(signalKey, since), seen.vectors);
    return {
      posts: posts.length ? unseenOf(await this.reads.postsAt(posts), seen.posts) : [],
      vectors: vectors.length ? unseenOf(await this.reads.vectorsAt(signalKey, vectors), seen.vectors) : [],
    };
  }

  /** `variants`: the experiment arms to build with it (a rebuild keeps those of the index it replaces). */
  private async build(signalKey: number, variants: readonly VariantSource[] = []): Promise<SignalIndex> {
    const t0 = performance.now();
    const averages = await this.baselines.averages(signalKey);
    const index: SignalIndex = {
      store: new VectorStore({ dim: averages.dim, ...this.storeOptions, runtime: this.runtime }),
      watermark: new Date(0),
      matureStamp: await matureStamp(this.prisma, signalKey),
      seen: { posts: new SeenStamps(), vectors: new SeenStamps() },
      variants: new Map(variants.map((source) => [source, new ArmVariant(source, { dim: averages.dim, ...this.storeOptions, runtime: this.runtime })])),
    };
    const startedAt = new Date(Date.now() - OVERLAP_MS);
    // Rows of the look-back window, read before the load (so the load includes them): the first refresh skips them.
    const [posts, vectors] = [await this.reads.postsSince(startedAt), await this.reads.vectorsSince(signalKey, startedAt)];
    await this.load(signalKey, index, null);
    index.seen.posts.add(posts);
    index.seen.vectors.add(vectors);
    index.watermark = startedAt;
    this.logger.info('recommendation index built', { signal: signalKey, posts: index.store.size, approximate: index.store.approximate, ms: Math.round(performance.now() - t0) });
    return index;
  }

  /**
   * Loads into the index the posts of `fresh` (rows of the refresh window it does not reflect; everything when null)
   * and marks their rows seen; the caller then moves the watermark.
   */
  private async load(signalKey: number, index: SignalIndex, fresh: Fresh | null): Promise<void> {
    const keys = fresh ? [...new Set([...fresh.posts, ...fresh.vectors].map((r) => r.key))] : null;
    if (keys) this.stats.reread += keys.length;
    if (keys && keys.length === 0) return;
    // A large catch-up (a bulk import elsewhere) goes in slices, so no single read blocks the event loop for long.
    if (keys && keys.length > LOAD_SLICE) {
      for (let i = 0; i < keys.length; i += LOAD_SLICE) await this.loadKeys(signalKey, index, keys.slice(i, i + LOAD_SLICE));
    } else await this.loadKeys(signalKey, index, keys);
    if (fresh) {
      index.seen.posts.add(fresh.posts);
      index.seen.vectors.add(fresh.vectors);
    }
  }

  /**
   * Reads the posts `keys` (all when null) with their vectors and puts each under its AUTO source, and into the
   * index's experiment variants; `only`: fill just these variants (a variant's build), the AUTO store untouched.
   */
  private async loadKeys(signalKey: number, index: SignalIndex, keys: number[] | null, only?: readonly ArmVariant[]): Promise<void> {
    const signal = await this.prisma.signal.findUniqueOrThrow({ where: { id: signalKey } });
    const media = { VIDEO: signal.appliesToVideo, IMAGE: signal.appliesToImage };
    const inKeys = keys ? { id: { in: keys } } : {};
    const variants = only ?? [...index.variants.values()];
    const withIds = variants.some((v) => v.source === 'RANDOM');
    const [posts, embeddings, stats, thresholds, averages] = await Promise.all([
      this.prisma.post.findMany({ where: inKeys, select: { id: true, externalId: withIds, mediaType: true, tags: { select: { tag: true } } } }),
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
    const variantRows = variants.map(() => [] as Parameters<ArmVariant['setMany']>[0][number][]);
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
      if (!only) {
        vectors.set(vector, rowKeys.length * dim);
        rowKeys.push(post.id);
        metas.push(packMeta(post.mediaType, source));
      }
      variants.forEach((v, i) => {
        const serving = armServing(v.source, { auto: source, tagAvg, global: averages.global, random: () => randomEmbedding((post as { externalId?: string }).externalId ?? String(post.id), signal.name, dim) });
        if (serving === 'same' && !v.overrides(post.id)) return;
        if (typeof serving === 'object' && serving.vector.length !== dim) return;
        variantRows[i].push({ postKey: post.id, mediaType: post.mediaType, serving });
      });
    }
    // One bulk insert: a store crossing its HNSW threshold builds the graph once, on all cores.
    if (!only) index.store.upsertMany(rowKeys, vectors.subarray(0, rowKeys.length * dim), metas);
    variants.forEach((v, i) => v.setMany(variantRows[i]));
  }
}
