/**
 * The embeddings store through Prisma, on either database: the fallback for a database without a direct connection
 * (SQLite in memory, `file::memory:`), and the writes the SQLite and PostgreSQL stores keep on Prisma (they extend
 * this class). Also the writers that run inside a caller's Prisma transaction (the activation's swap, the in-memory
 * upload path). Bulk writes are INSERT .. ON CONFLICT DO UPDATE in chunks: training stores hundreds of thousands of
 * MATURE, MEMER and user vectors. Vectors are float32 little-endian bytes.
 */
import { Prisma as Sql } from '../../generated/sqlite/client.js';
import { vectorToBytes } from '../../lib/vectors.js';
import type { Prisma, Tx } from '../db.js';
import { INSERT_POST_EMBEDDING, ON_POST_EMBEDDING_CONFLICT, versionsOf } from '../embedding-statements.js';
import type { EmbeddingStore, PostEmbeddingRow, UserEmbeddingRow } from '../embeddings.js';
import type { Provider } from '../provider.js';
import { retryTransaction } from '../retry.js';

/** 8 parameters a row, under both databases' bound-parameter limits. */
const CHUNK = 3000;

export class PrismaEmbeddingStore implements EmbeddingStore {
  constructor(
    protected readonly prisma: Prisma,
    protected readonly provider: Provider,
  ) {}

  writePostEmbeddings(rows: readonly PostEmbeddingRow[], { check, now }: { check: boolean; now?: Date }): Promise<boolean> {
    return retryTransaction(() =>
      this.prisma.$transaction(async (t) => {
        if (check && !(await this.stillActive(t as Tx, rows))) return false;
        await this.upsertPostEmbeddings(t as Tx, rows, now);
        return true;
      }),
    );
  }

  stillActive(tx: Tx, rows: readonly PostEmbeddingRow[]): Promise<boolean> {
    return stillActive(tx, rows);
  }

  upsertPostEmbeddings(tx: Tx, rows: readonly PostEmbeddingRow[], now?: Date): Promise<void> {
    return upsertPostEmbeddings(tx, this.provider, rows, now);
  }

  upsertUserEmbeddings(tx: Tx, rows: readonly UserEmbeddingRow[], now?: Date): Promise<void> {
    return upsertUserEmbeddings(tx, rows, now);
  }
}

/** Whether the model versions that produced `rows` are all still active (inside the caller's transaction). */
export async function stillActive(tx: Tx, rows: readonly PostEmbeddingRow[]): Promise<boolean> {
  const versions = versionsOf(rows);
  return (await tx.modelVersion.count({ where: { id: { in: versions }, active: true } })) === versions.length;
}

/** Post vectors inside the caller's transaction: one statement per CHUNK rows. */
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

/** User vectors inside the caller's transaction: one statement per CHUNK rows. */
export async function upsertUserEmbeddings(tx: Tx, rows: readonly UserEmbeddingRow[], now = new Date()): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = Sql.join(rows.slice(i, i + CHUNK).map((r) => Sql.sql`(${r.userKey}, ${r.signalKey}, ${r.modelVersionKey}, ${r.vector.length}, ${vectorToBytes(r.vector)}, ${now})`));
    await tx.$executeRaw`
      INSERT INTO "UserEmbedding" ("userId", "signalId", "modelVersionId", "dim", "vector", "updatedAt") VALUES ${values}
      ON CONFLICT ("userId", "signalId") DO UPDATE SET
        "modelVersionId" = excluded."modelVersionId", "dim" = excluded."dim", "vector" = excluded."vector", "updatedAt" = excluded."updatedAt"`;
  }
}
