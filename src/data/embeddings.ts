/**
 * The embeddings aggregate's repository: what MemerService (src/domain/embeddings) and the activation
 * (src/domain/training/activation.ts) need of storage to write post and user vectors, with one implementation per
 * database (sqlite/, postgres/, prisma/ beside this file), chosen once when the database opens (db.ts,
 * `db.stores.embeddings`). Types only: the domain imports this file and nothing of the implementations.
 *
 * Some writes run inside a transaction the caller holds. A Prisma transaction (`Tx`, either database) goes through the
 * store's methods that take it. The upload writers' own transactions on the direct connections (SQLite's synchronous
 * one, a PostgreSQL client) use the in-transaction functions of sqlite/embeddings.ts and postgres/embeddings.ts,
 * which take that dialect's handle (domain/uploads/write-direct.ts and write-pg.ts are dialect code until the uploads
 * aggregate moves under src/data/).
 */
import type { EmbeddingSource } from '../generated/sqlite/enums.js';
import type { Tx } from './db.js';

/** A post's vector for one signal and source, as written (float32; stored as little-endian bytes). */
export interface PostEmbeddingRow {
  postKey: number;
  signalKey: number;
  source: EmbeddingSource;
  /** The model version that produced it (MEMER, MATURE); null for the baselines. */
  modelVersionKey: number | null;
  vector: Float32Array;
  /** The post's views for the signal when the vector was computed (MEMER refreshes when they double). */
  views: number;
}

/** A user's vector for one signal. */
export interface UserEmbeddingRow {
  userKey: number;
  signalKey: number;
  modelVersionKey: number | null;
  vector: Float32Array;
}

export interface EmbeddingStore {
  /**
   * In a transaction of its own, retried whole on a transient failure (SQLite busy, a unique violation): with `check`,
   * first makes sure that the model versions which produced `rows` are all still active, and if one is not (an
   * activation swapped them meanwhile) writes nothing and resolves false; then upserts the rows (one per post, signal
   * and source: the last wins) and resolves true.
   */
  writePostEmbeddings(rows: readonly PostEmbeddingRow[], options: { check: boolean; now?: Date }): Promise<boolean>;
  /** Inside the caller's Prisma transaction: whether the model versions that produced `rows` are all still active. */
  stillActive(tx: Tx, rows: readonly PostEmbeddingRow[]): Promise<boolean>;
  /** Inside the caller's Prisma transaction: upserts post vectors (one per post, signal and source: the last wins). */
  upsertPostEmbeddings(tx: Tx, rows: readonly PostEmbeddingRow[], now?: Date): Promise<void>;
  /** Inside the caller's Prisma transaction: upserts user vectors (one per user and signal). */
  upsertUserEmbeddings(tx: Tx, rows: readonly UserEmbeddingRow[], now?: Date): Promise<void>;
}
