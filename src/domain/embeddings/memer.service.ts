/**
 * MEMER embeddings for posts (paper eq. 12): for every active model of the post's media type, feed the stored content
 * features and freq (log-views normalised as in training) and store the predicted vector as the post's MEMER
 * embedding for that signal. Used on upload (a fresh post: views 0), when views accrue (see `shouldRefresh`), and
 * after a new model is activated.
 */
import type { Db, Tx } from '../../data/db.js';
import type { EmbeddingStore, PostEmbeddingRow } from '../../data/embeddings.js';
import type { Logger } from '../../lib/logger.js';
import type { ModelRegistry, Snapshot } from '../models/registry.js';
import type { PostContent } from './hashed-text.js';
import { decodeFeatures, needsContent, predictVectors, type Embedded, type Features, type PostRef } from './predict.js';

/**
 * A stored MEMER vector is recomputed when the post's views for the signal have doubled since it was computed (and
 * at the first view): freq moves on a log scale, so this keeps the input current at a logarithmic number of refreshes.
 */
export function shouldRefresh(storedViews: number, views: number): boolean {
  return views > 0 && views >= Math.max(1, 2 * storedViews);
}

/** Posts just registered: their model inputs, and their text and tags (for models with a hashed text input), by key. */
export interface Fresh {
  features: ReadonlyMap<number, Features>;
  content: ReadonlyMap<number, PostContent>;
}

export class MemerService {
  /** Where the vectors go (src/data/embeddings.ts: `db.stores.embeddings`, one implementation per database). */
  private readonly store: EmbeddingStore;

  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly logger: Logger,
  ) {
    this.store = db.stores.embeddings;
  }

  /**
   * Computes and stores MEMER vectors for the posts under `snapshot`'s active models. `fresh` gives the stored
   * model inputs of posts just registered (no view yet), which saves reading their features back. Without `tx` the vectors are
   * written in a transaction of their own that first checks the snapshot's versions are still the active ones: if an
   * activation swapped them meanwhile, the registry is re-synced and the vectors recomputed with the new models, so
   * no prediction of a retired model lands in the new embedding space.
   */
  async embed(posts: readonly PostRef[], snapshot: Snapshot = this.registry.current(), tx?: Tx, fresh?: Fresh): Promise<Embedded[]> {
    if (tx) {
      const { rows, out } = await this.predict(posts, snapshot, tx, fresh);
      await this.store.upsertPostEmbeddings(tx, rows);
      return out;
    }
    for (let attempt = 0; ; attempt++) {
      const { rows, out } = await this.predict(posts, snapshot, this.db.prisma, fresh);
      if (rows.length === 0) return out;
      // Checked on the first two attempts; the third writes what the re-synced models predicted, so the loop ends.
      const written = await this.store.writePostEmbeddings(rows, { check: attempt < 2 });
      if (written) {
        this.logger.debug('memer embeddings stored', { posts: posts.length, vectors: rows.length });
        return out;
      }
      await this.registry.sync();
      snapshot = this.registry.current();
    }
  }

  /**
   * The MEMER vectors `embed` would store, without storing them (reads features and views through `tx`, and the posts'
   * text and tags for models trained with a hashed text feature).
   */
  async predict(posts: readonly PostRef[], snapshot: Snapshot, tx: Tx = this.db.prisma, fresh?: Fresh): Promise<{ rows: PostEmbeddingRow[]; out: Embedded[] }> {
    const models = [...snapshot.memer.values()];
    const wanted = posts.filter((p) => models.some((m) => m.mediaType === p.mediaType));
    if (wanted.length === 0) return { rows: [], out: [] };
    const keys = wanted.map((p) => p.key);
    if (fresh && keys.every((k) => fresh.features.has(k))) return predictVectors(models, wanted, fresh.features, new Map(), snapshot.ensembles, fresh.content);
    // Sequential, not Promise.all: `tx` may be a PostgreSQL transaction, i.e. one connection.
    const features = decodeFeatures(await tx.postFeature.findMany({ where: { postId: { in: keys } } }));
    const stats = await tx.postSignalStat.findMany({ where: { postId: { in: keys } }, select: { postId: true, signalId: true, total: true } });
    const views = new Map(stats.map((s) => [`${s.postId}:${s.signalId}`, s.total]));
    const content = needsContent(models, wanted)
      ? new Map((await tx.post.findMany({ where: { id: { in: keys } }, select: { id: true, text: true, tags: { select: { tag: true } } } })).map((p) => [p.id, { text: p.text, tags: p.tags.map((t) => t.tag) }]))
      : undefined;
    return predictVectors(models, wanted, features, views, snapshot.ensembles, content);
  }
}
