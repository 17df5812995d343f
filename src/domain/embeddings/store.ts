/**
 * Bulk writes of embeddings (INSERT .. ON CONFLICT DO UPDATE in chunks): uploads store one MEMER vector per signal,
 * training stores hundreds of thousands of MATURE, MEMER and user vectors. Vectors are float32 little-endian bytes.
 */
import type { Tx } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { Provider } from '../../data/provider.js';
import { Prisma as Sql } from '../../generated/sqlite/client.js';
import { bytesOf, vectorToBytes } from '../../lib/vectors.js';
import type { EmbeddingSource } from '../types.js';

export interface PostEmbeddingRow {
  postKey: number;
  signalKey: number;
  source: EmbeddingSource;
  modelVersionKey: number | null;
  vector: Float32Array;
  views: number;
}

export interface UserEmbeddingRow {
  userKey: number;
  signalKey: number;
  modelVersionKey: number | null;
  vector: Float32Array;
}

/** 8 parameters a row, under both databases' bound-parameter limits. */
const CHUNK = 3000;

/** The post-embedding upsert both write paths run, up to its VALUES. */
const INSERT_POST_EMBEDDING = `INSERT INTO "PostEmbedding" ("postId", "signalId", "source", "modelVersionId", "dim", "vector", "views", "updatedAt") VALUES`;
const ON_POST_EMBEDDING_CONFLICT = `ON CONFLICT ("postId", "signalId", "source") DO UPDATE SET
  "modelVersionId" = excluded."modelVersionId", "dim" = excluded."dim", "vector" = excluded."vector",
  "views" = excluded."views", "updatedAt" = excluded."updatedAt"`;

export async function upsertPostEmbeddings(tx: Tx, provider: Provider, all: readonly PostEmbeddingRow[], now = new Date()): Promise<void> {
  // One row per key: PostgreSQL refuses an INSERT .. ON CONFLICT that touches the same row twice. The last one wins.
  const rows = [...new Map(all.map((r) => [`${r.postKey}:${r.signalKey}:${r.source}`, r])).values()];
  // PostgreSQL stores the source as an enum type: a bound text parameter needs a cast; SQLite stores text.
  const cast = provider === 'postgresql' ? Sql.raw('::"EmbeddingSource"') : Sql.empty;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = Sql.join(
      rows.slice(i, i + CHUNK).map((r) => Sql.sql`(${r.postKey}, ${r.signalKey}, ${r.source}${cast}, ${r.modelVersionKey}, ${r.vector.length}, ${vectorToBytes(r.vector)}, ${r.views}, ${now})`),
    );
    await tx.$executeRaw`${Sql.raw(INSERT_POST_EMBEDDING)} ${values} ${Sql.raw(ON_POST_EMBEDDING_CONFLICT)}`;
  }
}

/** upsertPostEmbeddings on SQLite's direct connection, inside its (synchronous) transaction. */
export function upsertPostEmbeddingsDirect(db: DirectSqlite, rows: readonly PostEmbeddingRow[], now = new Date()): void {
  const at = sqliteDate(now);
  for (const r of rows) {
    db.run(
      `${INSERT_POST_EMBEDDING} (?, ?, ?, ?, ?, ?, ?, ?) ${ON_POST_EMBEDDING_CONFLICT}`,
      r.postKey, r.signalKey, r.source, r.modelVersionKey, r.vector.length, bytesOf(r.vector), r.views, at,
    );
  }
}

export async function upsertUserEmbeddings(tx: Tx, rows: readonly UserEmbeddingRow[], now = new Date()): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = Sql.join(rows.slice(i, i + CHUNK).map((r) => Sql.sql`(${r.userKey}, ${r.signalKey}, ${r.modelVersionKey}, ${r.vector.length}, ${vectorToBytes(r.vector)}, ${now})`));
    await tx.$executeRaw`
      INSERT INTO "UserEmbedding" ("userId", "signalId", "modelVersionId", "dim", "vector", "updatedAt") VALUES ${values}
      ON CONFLICT ("userId", "signalId") DO UPDATE SET
        "modelVersionId" = excluded."modelVersionId", "dim" = excluded."dim", "vector" = excluded."vector", "updatedAt" = excluded."updatedAt"`;
  }
}
