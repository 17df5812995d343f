/**
 * The embeddings store on PostgreSQL. Its own transactions (MemerService's refresh and repair writes) and the writes
 * inside a caller's Prisma transaction (the activation) stay on Prisma, as PrismaEmbeddingStore writes them: they are
 * off the upload hot path. The upload's write runs on the direct pool (../direct-postgres.ts,
 * domain/uploads/write-pg.ts), which writes its MEMER vectors in its one grouped statement and checks the predicting
 * models with `stillActive` below, on its transaction's client.
 */
import type { Prisma } from '../db.js';
import type { PgTx } from '../direct-postgres.js';
import { versionsOf } from '../embedding-statements.js';
import type { PostEmbeddingRow } from '../embeddings.js';
import { PrismaEmbeddingStore } from '../prisma/embeddings.js';

export class PostgresEmbeddingStore extends PrismaEmbeddingStore {
  constructor(prisma: Prisma) {
    super(prisma, 'postgresql');
  }
}

/** Whether the model versions that produced `rows` are all still active, inside a direct-pool transaction. */
export async function stillActive(tx: PgTx, rows: readonly PostEmbeddingRow[]): Promise<boolean> {
  const versions = versionsOf(rows);
  const [{ n }] = await tx.query<{ n: number }>(`SELECT COUNT(*)::int AS "n" FROM "ModelVersion" WHERE "id" = ANY($1::int[]) AND "active"`, [versions]);
  return n === versions.length;
}
