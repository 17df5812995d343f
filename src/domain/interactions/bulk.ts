/**
 * Bulk insert of interaction rows as multi-row INSERT statements: Prisma's createMany spends most of its time in the
 * client runtime per row, and imports write hundreds of thousands of rows (`memer import` of ml-latest-small went from
 * ~30 s to a few seconds).
 */
import type { Tx } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { PgTx } from '../../data/direct-postgres.js';
import type { Provider } from '../../data/provider.js';
import { onStatConflict, type StatDelta } from './stats.js';

export interface InteractionRow {
  userId: number;
  postId: number;
  signalId: number;
  label: number;
  timestamp: Date;
  /** The producer's event id (memer ingest), unique when set; absent for imports and for recordInteractions inputs without one. */
  eventId?: string | null;
}

/** Rows per statement on the Prisma path: the rows travel as one JSON text (SQLite) or six arrays (PostgreSQL). */
const CHUNK = 20_000;

const INSERT_INTERACTION = `INSERT INTO "Interaction" ("userId", "postId", "signalId", "label", "timestamp", "eventId")`;

/**
 * The rows inside the caller's Prisma transaction (imports; SQLite in memory). Prisma's cost is per bound parameter
 * (its query pipeline, then the driver adapter), and 5,000-row statements of 6 parameters a row took most of
 * `memer import`'s interaction phase: here a chunk is one JSON parameter expanded by json_each on SQLite, six array
 * parameters expanded by unnest on PostgreSQL.
 */
export async function insertInteractions(tx: Tx, rows: readonly InteractionRow[], provider: Provider = 'sqlite'): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    if (provider === 'sqlite') {
      const json = JSON.stringify(part.map((r) => [r.userId, r.postId, r.signalId, r.label, sqliteDate(r.timestamp), r.eventId ?? null]));
      await tx.$executeRawUnsafe(
        `${INSERT_INTERACTION} SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?) ORDER BY key`,
        json,
      );
    } else {
      await tx.$executeRawUnsafe(
        `${INSERT_INTERACTION} SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::timestamp(3)[], $6::text[])`,
        part.map((r) => r.userId), part.map((r) => r.postId), part.map((r) => r.signalId), part.map((r) => r.label), part.map((r) => r.timestamp.toISOString()), part.map((r) => r.eventId ?? null),
      );
    }
  }
}

/**
 * Statement sizes for SQLite's direct connection: a batch is written as multi-row statements of these many rows
 * (greedy: 1,000 rows = 7 x 128 + 3 x 32 + 1 x 8), each prepared once and cached. One better-sqlite3 run per row cost
 * ~2 us of binding and call overhead beside SQLite's own work (CPU profile of `memer bench ingest`).
 */
export const SQLITE_SIZES = [128, 32, 8, 1] as const;

/** `rows` split into the SQLITE_SIZES: [start, size] pairs. */
export function* sqliteChunks(length: number): Generator<[number, number]> {
  let at = 0;
  for (const size of SQLITE_SIZES) for (; length - at >= size; at += size) yield [at, size];
}

const placeholders = (n: number, width: number) => Array.from({ length: n }, () => `(${Array(width).fill('?').join(', ')})`).join(', ');

/** insertInteractions on SQLite's direct connection, inside its (synchronous) transaction. */
export function insertInteractionsDirect(db: DirectSqlite, rows: readonly InteractionRow[]): void {
  for (const [start, size] of sqliteChunks(rows.length)) {
    const params: unknown[] = [];
    for (let i = start; i < start + size; i++) {
      const r = rows[i];
      params.push(r.userId, r.postId, r.signalId, r.label, sqliteDate(r.timestamp), r.eventId ?? null);
    }
    db.run(`${INSERT_INTERACTION} VALUES ${placeholders(size, 6)}`, ...params);
  }
}

/** Statement for the users of a batch on PostgreSQL: creates the missing ones (in id order: no deadlock between two batches). */
const ENSURE_USERS_PG = `
WITH ids AS (SELECT DISTINCT x AS eid FROM unnest($1::text[]) AS x),
ins AS (
  INSERT INTO "User" ("externalId", "createdAt", "updatedAt")
  SELECT eid, $2::timestamp(3), $2::timestamp(3) FROM ids WHERE NOT EXISTS (SELECT 1 FROM "User" u WHERE u."externalId" = ids.eid) ORDER BY eid
  ON CONFLICT ("externalId") DO NOTHING RETURNING "id", "externalId"
)
SELECT "id", "externalId", true AS "created" FROM ins
UNION ALL SELECT u."id", u."externalId", false FROM "User" u JOIN ids ON u."externalId" = ids.eid`;

/**
 * Internal keys of these users on PostgreSQL, creating the missing ones (inside the caller's transaction); also how
 * many it created. One statement; a user that a concurrent transaction committed meanwhile (skipped by ON CONFLICT,
 * not yet in the statement's snapshot) is read by a second.
 */
export async function ensureUsersPg(tx: PgTx, externalIds: readonly string[], now: Date): Promise<{ keys: Map<string, number>; created: number }> {
  const ids = [...new Set(externalIds)];
  const keys = new Map<string, number>();
  let created = 0;
  if (ids.length === 0) return { keys, created };
  for (const r of await tx.query<{ id: number; externalId: string; created: boolean }>(ENSURE_USERS_PG, [ids, now.toISOString()])) {
    keys.set(r.externalId, Number(r.id));
    if (r.created) created++;
  }
  const missing = ids.filter((id) => !keys.has(id));
  if (missing.length) {
    for (const r of await tx.query<{ id: number; externalId: string }>(`SELECT "id", "externalId" FROM "User" WHERE "externalId" = ANY($1::text[])`, [missing])) keys.set(r.externalId, Number(r.id));
  }
  return { keys, created };
}

/** Users on SQLite's direct connection (inside its synchronous transaction): one read, multi-row inserts of the missing. */
export function ensureUsersDirect(db: DirectSqlite, externalIds: readonly string[], now: Date): { keys: Map<string, number>; created: number } {
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

/**
 * Interaction rows and their statistics on PostgreSQL in one statement (inside the caller's transaction): the rows as
 * arrays (unnest), the deltas in (post, signal) order, so that two batches lock the statistics rows they share in the
 * same order (the unsorted upsert deadlocked at concurrency 4: `memer bench ingest`).
 */
export async function writeInteractionsPg(tx: PgTx, rows: readonly InteractionRow[], deltas: readonly StatDelta[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...deltas].sort((a, b) => a.postKey - b.postKey || a.signalKey - b.signalKey);
  await tx.query(
    `WITH i AS (
       INSERT INTO "Interaction" ("userId", "postId", "signalId", "label", "timestamp", "eventId")
       SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::timestamp(3)[], $6::text[])
     )
     INSERT INTO "PostSignalStat" ("postId", "signalId", "positives", "total", "firstSeen", "lastSeen")
     SELECT * FROM unnest($7::int[], $8::int[], $9::int[], $10::int[], $11::timestamp(3)[], $12::timestamp(3)[]) ORDER BY 1, 2
     ${onStatConflict('postgresql')}`,
    [
      rows.map((r) => r.userId), rows.map((r) => r.postId), rows.map((r) => r.signalId), rows.map((r) => r.label), rows.map((r) => r.timestamp.toISOString()), rows.map((r) => r.eventId ?? null),
      sorted.map((g) => g.postKey), sorted.map((g) => g.signalKey), sorted.map((g) => g.positives), sorted.map((g) => g.total), sorted.map((g) => g.first.toISOString()), sorted.map((g) => g.last.toISOString()),
    ],
  );
}

/** What copyInteractionsPg needs of a pg client or pool client: its `query` of a submittable. */
export interface PgCopyClient {
  query(submittable: CopyIn): unknown;
}

/** A text field of COPY's text format (backslash, tab, newline and carriage return escaped; null as \N). */
const copyField = (v: string | null | undefined) => (v == null ? '\\N' : v.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!));

/**
 * `COPY .. FROM STDIN` through node-postgres's submittable interface (the protocol's CopyIn: CopyData messages, then
 * CopyDone), without a streaming library: the whole text is sent at once, in chunks of 1 MB.
 */
export class CopyIn {
  private resolve!: (n: number) => void;
  private reject!: (e: unknown) => void;
  private rows = 0;
  private failed: unknown = null;
  readonly done = new Promise<number>((res, rej) => ((this.resolve = res), (this.reject = rej)));

  constructor(
    private readonly sql: string,
    private readonly text: string,
  ) {}

  submit(connection: { query(text: string): void }): void {
    connection.query(this.sql);
  }

  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    const bytes = Buffer.from(this.text);
    for (let i = 0; i < bytes.length; i += 1 << 20) connection.sendCopyFromChunk(bytes.subarray(i, i + (1 << 20)));
    connection.endCopyFrom();
  }

  handleCommandComplete(msg: { text?: string }): void {
    this.rows = Number(/(\d+)$/.exec(msg.text ?? '')?.[1] ?? 0);
  }

  handleError(err: unknown): void {
    this.failed = err;
  }

  handleReadyForQuery(): void {
    if (this.failed) this.reject(this.failed);
    else this.resolve(this.rows);
  }

  // Not sent for COPY FROM; present because the client calls them for any active query.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** The rows as COPY's text format, one line each. */
export function copyText(rows: readonly InteractionRow[]): string {
  let out = '';
  for (const r of rows) out += `${r.userId}\t${r.postId}\t${r.signalId}\t${r.label}\t${r.timestamp.toISOString()}\t${copyField(r.eventId)}\n`;
  return out;
}

/** The rows by COPY FROM STDIN on a pg connection (inside the caller's transaction); resolves with the rows copied. */
export async function copyInteractionsPg(client: PgCopyClient, rows: readonly InteractionRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const copy = new CopyIn(`COPY "Interaction" ("userId", "postId", "signalId", "label", "timestamp", "eventId") FROM STDIN`, copyText(rows));
  client.query(copy);
  return copy.done;
}
