/**
 * The embeddings store on a SQLite file. Its own transactions (MemerService's refresh and repair writes) and the
 * writes inside a caller's Prisma transaction (the activation) stay on Prisma, as PrismaEmbeddingStore writes them:
 * they are off the upload hot path, and a bulk activation is a few large statements. The upload's write runs in the
 * direct connection's synchronous transaction (../direct-sqlite.ts, domain/uploads/write-direct.ts) and uses the two
 * functions below inside it: plain SQL, no Prisma, no await.
 */
import type { Prisma } from '../db.js';
import { sqliteDate, type DirectSqlite } from '../direct-sqlite.js';
import { INSERT_POST_EMBEDDING, ON_POST_EMBEDDING_CONFLICT, versionsOf } from '../embedding-statements.js';
import type { PostEmbeddingRow } from '../embeddings.js';
import { PrismaEmbeddingStore } from '../prisma/embeddings.js';
import { bytesOf } from '../../lib/vectors.js';

export class SqliteEmbeddingStore extends PrismaEmbeddingStore {
  constructor(prisma: Prisma) {
    super(prisma, 'sqlite');
  }
}

/** Whether the model versions that produced `rows` are all still active, inside the direct connection's transaction. */
export function stillActive(db: DirectSqlite, rows: readonly PostEmbeddingRow[]): boolean {
  const versions = versionsOf(rows);
  const [{ n }] = db.all<{ n: number }>(`SELECT COUNT(*) AS "n" FROM "ModelVersion" WHERE "id" IN (SELECT value FROM json_each(?)) AND "active" = 1`, JSON.stringify(versions));
  return n === versions.length;
}

/** Post vectors inside the direct connection's (synchronous) transaction: one prepared statement, run per row. */
export function upsertPostEmbeddings(db: DirectSqlite, rows: readonly PostEmbeddingRow[], now = new Date()): void {
  const at = sqliteDate(now);
  for (const r of rows) {
    db.run(
      `${INSERT_POST_EMBEDDING} (?, ?, ?, ?, ?, ?, ?, ?) ${ON_POST_EMBEDDING_CONFLICT}`,
      r.postKey, r.signalKey, r.source, r.modelVersionKey, r.vector.length, bytesOf(r.vector), r.views, at,
    );
  }
}
