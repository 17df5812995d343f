/**
 * Bulk insert of interaction rows as multi-row INSERT statements: Prisma's createMany spends most of its time in the
 * client runtime per row, and imports write hundreds of thousands of rows (`memer import` of ml-latest-small went from
 * ~30 s to a few seconds).
 */
import type { Tx } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import { Prisma as Sql } from '../../generated/sqlite/client.js';

export interface InteractionRow {
  userId: number;
  postId: number;
  signalId: number;
  label: number;
  timestamp: Date;
  /** The producer's event id (memer ingest), unique when set; absent for imports and recordInteractions. */
  eventId?: string | null;
}

/** 6 parameters a row; SQLite allows 32766 bound parameters per statement, PostgreSQL 65535. */
const CHUNK = 5000;

const INSERT_INTERACTION = `INSERT INTO "Interaction" ("userId", "postId", "signalId", "label", "timestamp", "eventId") VALUES`;

export async function insertInteractions(tx: Tx, rows: readonly InteractionRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const values = Sql.join(rows.slice(i, i + CHUNK).map((r) => Sql.sql`(${r.userId}, ${r.postId}, ${r.signalId}, ${r.label}, ${r.timestamp}, ${r.eventId ?? null})`));
    await tx.$executeRaw`${Sql.raw(INSERT_INTERACTION)} ${values}`;
  }
}

/** insertInteractions on SQLite's direct connection, inside its (synchronous) transaction: one cached statement a row. */
export function insertInteractionsDirect(db: DirectSqlite, rows: readonly InteractionRow[]): void {
  for (const r of rows) db.run(`${INSERT_INTERACTION} (?, ?, ?, ?, ?, ?)`, r.userId, r.postId, r.signalId, r.label, sqliteDate(r.timestamp), r.eventId ?? null);
}
