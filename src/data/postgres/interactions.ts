/**
 * The interactions store on PostgreSQL: plain SQL on the direct pool (../direct-postgres.ts), not Prisma, three
 * statements a batch whatever its size (the event-id read, the users, the rows with their statistics: arrays through
 * unnest). A unique violation (a concurrent writer of the same event id or new user) or a deadlock is retried whole.
 * Also the COPY FROM STDIN writer the ingest benchmark compares against.
 */
import type { StatDelta } from '../../lib/stat-accumulator.js';
import type { DirectPostgres, PgTx } from '../direct-postgres.js';
import { eventIdsOf, fresh, INSERT_INTERACTION, INSERT_STAT_INTO, keyed, onStatConflict, statsOf, type InteractionRow } from '../interaction-statements.js';
import type { BatchRow, BatchWritten, InteractionStore, PostRow, SignalRow } from '../interactions.js';
import { isUniqueViolation } from '../retry.js';

/** Attempts of a batch's transaction (the first and four retries). */
const ATTEMPTS = 5;

/** PostgreSQL's deadlock_detected: the loser rolls back whole and is retried. */
const isDeadlock = (err: unknown) => (err as { code?: string } | null)?.code === '40P01';

export class PostgresInteractionStore implements InteractionStore {
  constructor(private readonly pg: DirectPostgres) {}

  signals(): Promise<SignalRow[]> {
    return this.pg.query<SignalRow>(`SELECT "id", "name", "kind", "appliesToVideo", "appliesToImage", "description" FROM "Signal"`);
  }

  postsByExternalId(ids: readonly string[]): Promise<PostRow[]> {
    return this.pg.query<PostRow>(`SELECT "id", "externalId", "mediaType"::text AS "mediaType" FROM "Post" WHERE "externalId" = ANY($1::text[])`, [ids]);
  }

  async writeBatch(rows: readonly BatchRow[], now: Date): Promise<BatchWritten> {
    const eventIds = eventIdsOf(rows);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pg.transaction(async (tx) => {
          const stored = eventIds.length ? await tx.query<{ eventId: string }>(`SELECT "eventId" FROM "Interaction" WHERE "eventId" = ANY($1::text[])`, [eventIds]) : [];
          const todo = fresh(rows, stored);
          const stats = statsOf(todo);
          const users = await ensureUsers(tx, todo.map((r) => r.userId), now);
          await writeInteractions(tx, keyed(todo, users.keys), stats.deltas());
          return { recorded: todo.length, usersCreated: users.created, posts: stats.size };
        });
      } catch (err) {
        if (attempt >= ATTEMPTS || !(isDeadlock(err) || isUniqueViolation(err))) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt * Math.random()));
      }
    }
  }
}

/** Creates the missing users of a batch (in id order: no deadlock between two batches). */
const ENSURE_USERS = `
WITH ids AS (SELECT DISTINCT x AS eid FROM unnest($1::text[]) AS x),
ins AS (
  INSERT INTO "User" ("externalId", "createdAt", "updatedAt")
  SELECT eid, $2::timestamp(3), $2::timestamp(3) FROM ids WHERE NOT EXISTS (SELECT 1 FROM "User" u WHERE u."externalId" = ids.eid) ORDER BY eid
  ON CONFLICT ("externalId") DO NOTHING RETURNING "id", "externalId"
)
SELECT "id", "externalId", true AS "created" FROM ins
UNION ALL SELECT u."id", u."externalId", false FROM "User" u JOIN ids ON u."externalId" = ids.eid`;

/**
 * Internal keys of these users, creating the missing ones (inside the caller's transaction); also how many it
 * created. One statement; a user that a concurrent transaction committed meanwhile (skipped by ON CONFLICT, not yet
 * in the statement's snapshot) is read by a second.
 */
export async function ensureUsers(tx: PgTx, externalIds: readonly string[], now: Date): Promise<{ keys: Map<string, number>; created: number }> {
  const ids = [...new Set(externalIds)];
  const keys = new Map<string, number>();
  let created = 0;
  if (ids.length === 0) return { keys, created };
  for (const r of await tx.query<{ id: number; externalId: string; created: boolean }>(ENSURE_USERS, [ids, now.toISOString()])) {
    keys.set(r.externalId, Number(r.id));
    if (r.created) created++;
  }
  const missing = ids.filter((id) => !keys.has(id));
  if (missing.length) {
    for (const r of await tx.query<{ id: number; externalId: string }>(`SELECT "id", "externalId" FROM "User" WHERE "externalId" = ANY($1::text[])`, [missing])) keys.set(r.externalId, Number(r.id));
  }
  return { keys, created };
}

/**
 * Interaction rows and their statistics in one statement (inside the caller's transaction): the rows as arrays
 * (unnest), the deltas in (post, signal) order, so that two batches lock the statistics rows they share in the same
 * order (the unsorted upsert deadlocked at concurrency 4: `memer bench ingest`).
 */
export async function writeInteractions(tx: PgTx, rows: readonly InteractionRow[], deltas: readonly StatDelta[]): Promise<void> {
  if (rows.length === 0) return;
  const sorted = [...deltas].sort((a, b) => a.postKey - b.postKey || a.signalKey - b.signalKey);
  await tx.query(
    `WITH i AS (
       ${INSERT_INTERACTION}
       SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::timestamp(3)[], $6::text[])
     )
     ${INSERT_STAT_INTO}
     SELECT * FROM unnest($7::int[], $8::int[], $9::int[], $10::int[], $11::timestamp(3)[], $12::timestamp(3)[]) ORDER BY 1, 2
     ${onStatConflict('postgresql')}`,
    [
      rows.map((r) => r.userId), rows.map((r) => r.postId), rows.map((r) => r.signalId), rows.map((r) => r.label), rows.map((r) => r.timestamp.toISOString()), rows.map((r) => r.eventId ?? null),
      sorted.map((g) => g.postKey), sorted.map((g) => g.signalKey), sorted.map((g) => g.positives), sorted.map((g) => g.total), sorted.map((g) => g.first.toISOString()), sorted.map((g) => g.last.toISOString()),
    ],
  );
}

/** What copyInteractions needs of a pg client or pool client: its `query` of a submittable. */
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
export async function copyInteractions(client: PgCopyClient, rows: readonly InteractionRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const copy = new CopyIn(`COPY "Interaction" ("userId", "postId", "signalId", "label", "timestamp", "eventId") FROM STDIN`, copyText(rows));
  client.query(copy);
  return copy.done;
}
