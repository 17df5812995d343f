/**
 * MEMER embeddings for posts (paper eq. 12): for every active model of the post's media type, feed the stored content
 * features and freq (log-views normalised as in training) and store the predicted vector as the post's MEMER
 * embedding for that signal. Used on upload (a fresh post: views 0), when views accrue (see `shouldRefresh`), and
 * after a new model is activated.
 */
import type { Db, Tx } from '../../data/db.js';
import type { PgTx } from '../../data/direct-postgres.js';
import type { DirectSqlite } from '../../data/direct-sqlite.js';
import type { Logger } from '../../lib/logger.js';
import type { ModelRegistry, Snapshot } from '../models/registry.js';
import type { PostContent } from './hashed-text.js';
import { decodeFeatures, needsContent, predictVectors, type Embedded, type Features, type PostRef } from './predict.js';
import { upsertPostEmbeddings, type PostEmbeddingRow } from './store.js';
import { retryTransaction } from '../../data/retry.js';

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
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly logger: Logger,
  ) {}

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
      await upsertPostEmbeddings(tx, this.db.provider, rows);
      return out;
    }
    for (let attempt = 0; ; attempt++) {
      const { rows, out } = await this.predict(posts, snapshot, this.db.prisma, fresh);
      if (rows.length === 0) return out;
      const written = await retryTransaction(() =>
        this.db.prisma.$transaction(async (t) => {
          if (!(await stillActive(t as Tx, rows)) && attempt < 2) return false;
          await upsertPostEmbeddings(t as Tx, this.db.provider, rows);
          return true;
        }),
      );
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

/** The model versions that produced `rows`, once each. */
const versionsOf = (rows: readonly PostEmbeddingRow[]) => [...new Set(rows.map((r) => r.modelVersionKey!))];

/** Whether the model versions that produced `rows` are all still active (checked inside the writing transaction). */
export async function stillActive(tx: Tx, rows: readonly PostEmbeddingRow[]): Promise<boolean> {
  const versions = versionsOf(rows);
  return (await tx.modelVersion.count({ where: { id: { in: versions }, active: true } })) === versions.length;
}

/** stillActive on SQLite's direct connection, inside its (synchronous) transaction. */
export function stillActiveDirect(db: DirectSqlite, rows: readonly PostEmbeddingRow[]): boolean {
  const versions = versionsOf(rows);
  const [{ n }] = db.all<{ n: number }>(`SELECT COUNT(*) AS "n" FROM "ModelVersion" WHERE "id" IN (SELECT value FROM json_each(?)) AND "active" = 1`, JSON.stringify(versions));
  return n === versions.length;
}

/** stillActive on PostgreSQL's direct pool, inside its transaction. */
export async function stillActivePg(tx: PgTx, rows: readonly PostEmbeddingRow[]): Promise<boolean> {
  const versions = versionsOf(rows);
  const [{ n }] = await tx.query<{ n: number }>(`SELECT COUNT(*)::int AS "n" FROM "ModelVersion" WHERE "id" = ANY($1::int[]) AND "active"`, [versions]);
  return n === versions.length;
}
