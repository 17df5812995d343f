/**
 * The interactions store on a SQLite file: plain SQL on the direct connection (../direct-sqlite.ts), not Prisma
 * (~0.3 ms of CPU a statement, and the post look-up of a 1,000 batch was a tenth of the server's CPU), in its
 * synchronous transaction. A Prisma interactive transaction here left its uncommitted rows visible to other requests'
 * reads on Prisma's one connection for as long as it was open. Writes are multi-row statements (SQLITE_SIZES).
 */
import type { StatDelta } from '../../lib/stat-accumulator.js';
import { sqliteDate, type DirectSqlite } from '../direct-sqlite.js';
import { eventIdsOf, fresh, INSERT_INTERACTION, INSERT_STAT_INTO, keyed, onStatConflict, statsOf, type InteractionRow } from '../interaction-statements.js';
import type { BatchRow, BatchWritten, InteractionStore, PostRow, SignalRow } from '../interactions.js';

/**
 * Statement sizes: a batch is written as multi-row statements of these many rows (greedy: 1,000 rows = 7 x 128 +
 * 3 x 32 + 1 x 8), each prepared once and cached. One better-sqlite3 run per row cost ~2 us of binding and call
 * overhead beside SQLite's own work (CPU profile of `memer bench ingest`).
 */
export const SQLITE_SIZES = [128, 32, 8, 1] as const;

/** `length` rows split into the SQLITE_SIZES: [start, size] pairs. */
export function* sqliteChunks(length: number): Generator<[number, number]> {
  let at = 0;
  for (const size of SQLITE_SIZES) for (; length - at >= size; at += size) yield [at, size];
}

const placeholders = (n: number, width: number) => Array.from({ length: n }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');

type StoredSignal = Omit<SignalRow, 'appliesToVideo' | 'appliesToImage'> & { appliesToVideo: number | boolean; appliesToImage: number | boolean };

export class SqliteInteractionStore implements InteractionStore {
  constructor(private readonly db: DirectSqlite) {}

  async signals(): Promise<SignalRow[]> {
    const rows = this.db.all<StoredSignal>(`SELECT "id", "name", "kind", "appliesToVideo", "appliesToImage", "description" FROM "Signal"`);
    return rows.map((r) => ({ ...r, appliesToVideo: !!r.appliesToVideo, appliesToImage: !!r.appliesToImage }));
  }

  async postsByExternalId(ids: readonly string[]): Promise<PostRow[]> {
    return this.db.all<PostRow>(`SELECT "id", "externalId", "mediaType" FROM "Post" WHERE "externalId" IN (SELECT value FROM json_each(?))`, JSON.stringify(ids));
  }

  writeBatch(rows: readonly BatchRow[], now: Date): Promise<BatchWritten> {
    const db = this.db;
    const eventIds = eventIdsOf(rows);
    return db.transaction(() => {
      const stored = eventIds.length ? db.all<{ eventId: string }>(`SELECT "eventId" FROM "Interaction" WHERE "eventId" IN (SELECT value FROM json_each(?))`, JSON.stringify(eventIds)) : [];
      const todo = fresh(rows, stored);
      const stats = statsOf(todo);
      const users = ensureUsers(db, todo.map((r) => r.userId), now);
      insertInteractions(db, keyed(todo, users.keys));
      applyStatDeltas(db, stats.deltas());
      return { recorded: todo.length, usersCreated: users.created, posts: stats.size };
    });
  }
}

/** Users inside the synchronous transaction: one read, multi-row inserts of the missing; also how many it created. */
export function ensureUsers(db: DirectSqlite, externalIds: readonly string[], now: Date): { keys: Map<string, number>; created: number } {
  const ids = [...new Set(externalIds)];
  const found = db.all<{ id: number; externalId: string }>(`SELECT "id", "externalId" FROM "User" WHERE "externalId" IN (SELECT value FROM json_each(?))`, JSON.stringify(ids));
  const keys = new Map(found.map((u) => [u.externalId, u.id]));
  const missing = ids.filter((id) => !keys.has(id));
  const at = sqliteDate(now);
  for (const [start, size] of sqliteChunks(missing.length)) {
    const params: unknown[] = [];
    for (let i = start; i < start + size; i++) params.push(missing[i], at, at);
    for (const u of db.all<{ id: number; externalId: string }>(`INSERT INTO "User" ("externalId", "createdAt", "updatedAt") VALUES ${placeholders(size, 3)} RETURNING "id", "externalId"`, ...params)) keys.set(u.externalId, u.id);
  }
  return { keys, created: missing.length };
}

/** Interaction rows inside the synchronous transaction. */
export function insertInteractions(db: DirectSqlite, rows: readonly InteractionRow[]): void {
  for (const [start, size] of sqliteChunks(rows.length)) {
    const params: unknown[] = [];
    for (let i = start; i < start + size; i++) {
      const r = rows[i];
      params.push(r.userId, r.postId, r.signalId, r.label, sqliteDate(r.timestamp), r.eventId ?? null);
    }
    db.run(`${INSERT_INTERACTION} VALUES ${placeholders(size, 6)}`, ...params);
  }
}

/** Statistics increments inside the synchronous transaction: multi-row INSERT .. ON CONFLICT statements. */
export function applyStatDeltas(db: DirectSqlite, deltas: readonly StatDelta[]): void {
  for (const [start, size] of sqliteChunks(deltas.length)) {
    const params: unknown[] = [];
    for (let i = start; i < start + size; i++) {
      const g = deltas[i];
      params.push(g.postKey, g.signalKey, g.positives, g.total, sqliteDate(g.first), sqliteDate(g.last));
    }
    db.run(`${INSERT_STAT_INTO} VALUES ${placeholders(size, 6)} ${onStatConflict('sqlite')}`, ...params);
  }
}
