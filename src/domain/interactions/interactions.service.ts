/**
 * Recording interactions. A batch is checked whole (known post, known signal that applies to the post's media type,
 * label 0 or 1, valid timestamp) before one transaction writes it: unknown users are created, the interaction rows are
 * inserted and the per post and signal statistics are incremented in the same transaction, so counts never disagree
 * with the rows behind them. Any bad element fails the whole batch with its index.
 *
 * Idempotency (memer ingest, at-least-once delivery): an input may carry the producer's `eventId`. Inside the write
 * transaction, ids already stored are skipped (and an id repeated within the batch is written once), so a redelivered
 * or re-published event is stored once and counted once; the unique index on Interaction.eventId turns two concurrent
 * writers of one id into a unique violation, which is retried to the skip.
 *
 * Where the time goes (`memer bench ingest`, docs/performance.md): on SQLite files and PostgreSQL the batch is read
 * and written with plain SQL on the direct connections (data/direct-sqlite.ts, data/direct-postgres.ts), not Prisma
 * (~0.3 ms of CPU a statement, and the post look-up of a 1,000 batch was a tenth of the server's CPU); SQLite writes
 * multi-row statements, PostgreSQL one statement for the users and one for the rows and their statistics (arrays,
 * unnest). Durability is the database's commit: a batch is acknowledged only after its transaction committed (SQLite
 * WAL with synchronous=NORMAL survives a killed process; PostgreSQL synchronous_commit).
 */
import type { Config } from '../../config/config.js';
import type { Prisma, Tx } from '../../data/db.js';
import type { DirectPostgres } from '../../data/direct-postgres.js';
import type { DirectSqlite } from '../../data/direct-sqlite.js';
import type { Provider } from '../../data/provider.js';
import { isUniqueViolation, retryTransaction } from '../../data/retry.js';
import { AppError, badInput, quote } from '../../errors.js';
import { validateId } from '../posts/post.validation.js';
import { toSignalRecord, type SignalsService } from '../signals/signals.service.js';
import type { MediaType, SignalRecord } from '../types.js';
import { UsersService } from '../users/users.service.js';
import { ensureUsersDirect, ensureUsersPg, insertInteractions, insertInteractionsDirect, writeInteractionsPg } from './bulk.js';
import { applyStatDeltas, applyStatDeltasDirect, StatAccumulator } from './stats.js';

export interface InteractionInput {
  userId: string;
  postId: string;
  signal: string;
  /** 1 positive (default), 0 explicit negative. */
  label?: number | null;
  timestamp?: Date | null;
  /** The producer's id of this event: an id already stored is skipped (see above). */
  eventId?: string | null;
}

export interface RecordResult {
  recorded: number;
  usersCreated: number;
  posts: number;
  /** Inputs not written because their eventId was already stored or came earlier in the batch. */
  duplicates: number;
}

interface Row {
  userId: string;
  postKey: number;
  signalKey: number;
  label: number;
  timestamp: Date;
  eventId: string | null;
}

/** The rows whose event id is not among `stored` (rows without one are always written). */
const fresh = (rows: Row[], stored: readonly { eventId: string | null }[]) => {
  const ids = new Set(stored.map((s) => s.eventId));
  return ids.size ? rows.filter((r) => r.eventId === null || !ids.has(r.eventId)) : rows;
};

/** PostgreSQL's deadlock_detected: the loser rolls back whole and is retried. */
const isDeadlock = (err: unknown) => (err as { code?: string } | null)?.code === '40P01';

/** A signal row as the direct connections read it. */
type SignalRow = { id: number; name: string; kind: string; appliesToVideo: boolean | number; appliesToImage: boolean | number; description: string };
type PostRow = { id: number; externalId: string; mediaType: MediaType };

export class InteractionsService {
  constructor(
    private readonly prisma: Prisma,
    private readonly provider: Provider,
    private readonly config: Config,
    private readonly signals: SignalsService,
    /** SQLite files: the direct connection, which writes the batch (see `record`). */
    private readonly direct?: DirectSqlite,
    /** PostgreSQL: the direct pool, which writes the batch. */
    private readonly pg?: DirectPostgres,
  ) {}

  /** Every signal by name (a fresh read: another process may create signals). */
  private async signalMap(): Promise<Map<string, SignalRecord>> {
    const sql = `SELECT "id", "name", "kind", "appliesToVideo", "appliesToImage", "description" FROM "Signal"`;
    const rows = this.direct ? this.direct.all<SignalRow>(sql) : this.pg ? await this.pg.query<SignalRow>(sql) : null;
    const records = rows ? rows.map((r) => toSignalRecord({ ...r, appliesToVideo: !!r.appliesToVideo, appliesToImage: !!r.appliesToImage } as Parameters<typeof toSignalRecord>[0])) : await this.signals.all();
    return new Map(records.map((s) => [s.name, s]));
  }

  private async postMap(ids: string[]): Promise<Map<string, PostRow>> {
    const posts = this.direct
      ? this.direct.all<PostRow>(`SELECT "id", "externalId", "mediaType" FROM "Post" WHERE "externalId" IN (SELECT value FROM json_each(?))`, JSON.stringify(ids))
      : this.pg
        ? await this.pg.query<PostRow>(`SELECT "id", "externalId", "mediaType"::text AS "mediaType" FROM "Post" WHERE "externalId" = ANY($1::text[])`, [ids])
        : await this.prisma.post.findMany({ where: { externalId: { in: ids } }, select: { id: true, externalId: true, mediaType: true } });
    return new Map(posts.map((p) => [p.externalId, p]));
  }

  async record(inputs: InteractionInput[], now = new Date()): Promise<RecordResult> {
    if (inputs.length === 0) return { recorded: 0, usersCreated: 0, posts: 0, duplicates: 0 };
    if (inputs.length > this.config.maxBatch) throw badInput(`at most ${this.config.maxBatch} interactions per call, got ${inputs.length}`, { path: 'inputs' });
    const postIds = new Set<string>();
    for (const x of inputs) postIds.add(x.postId);
    const [signals, postById] = await Promise.all([this.signalMap(), this.postMap([...postIds])]);

    // Checked whole, once, before anything is written (the GraphQL layer has already checked the types).
    const batch: Row[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      const at = `inputs[${i}]`;
      checkId('user', x.userId, `${at}.userId`, i);
      if (x.eventId != null) checkId('event', x.eventId, `${at}.eventId`, i);
      const post = postById.get(x.postId);
      if (!post) throw badInput(`${at}.postId: unknown post ${quote(x.postId)}`, { path: `${at}.postId`, index: i });
      const signal = signals.get(x.signal);
      if (!signal) throw badInput(`${at}.signal: unknown signal ${quote(x.signal)} (known: ${[...signals.keys()].join(', ')})`, { path: `${at}.signal`, index: i });
      if (!signal.mediaTypes.includes(post.mediaType)) {
        throw badInput(`${at}.signal: ${signal.name} does not apply to ${post.mediaType} posts`, { path: `${at}.signal`, index: i });
      }
      const label = x.label ?? 1;
      if (label !== 0 && label !== 1) throw badInput(`${at}.label must be 0 or 1, got ${label}`, { path: `${at}.label`, index: i });
      const timestamp = x.timestamp ?? now;
      if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) throw badInput(`${at}.timestamp is not a valid date`, { path: `${at}.timestamp`, index: i });
      batch[i] = { userId: x.userId, postKey: post.id, signalKey: signal.key, label, timestamp, eventId: x.eventId ?? null };
    }
    const seen = new Set<string>();
    const rows = batch.filter((r) => {
      if (r.eventId === null) return true;
      if (seen.has(r.eventId)) return false;
      seen.add(r.eventId);
      return true;
    });
    const eventIds = [...seen];

    const statsOf = (todo: Row[]) => {
      const stats = new StatAccumulator();
      for (const r of todo) stats.add(r.postKey, r.signalKey, r.label, r.timestamp);
      return stats;
    };
    const interactions = (todo: Row[], users: Map<string, number>) =>
      todo.map((r) => ({ userId: users.get(r.userId)!, postId: r.postKey, signalId: r.signalKey, label: r.label, timestamp: r.timestamp, eventId: r.eventId }));
    const direct = this.direct;
    if (direct) {
      // SQLite file: the direct connection's synchronous transaction, like uploads (data/direct-sqlite.ts). A Prisma
      // interactive transaction here left its uncommitted rows visible to other requests' reads on Prisma's one
      // connection for as long as it was open.
      return direct.transaction(() => {
        const stored = eventIds.length ? direct.all<{ eventId: string }>(`SELECT "eventId" FROM "Interaction" WHERE "eventId" IN (SELECT value FROM json_each(?))`, JSON.stringify(eventIds)) : [];
        const todo = fresh(rows, stored);
        const stats = statsOf(todo);
        const users = ensureUsersDirect(direct, todo.map((r) => r.userId), now);
        insertInteractionsDirect(direct, interactions(todo, users.keys));
        applyStatDeltasDirect(direct, stats.deltas());
        return { recorded: todo.length, usersCreated: users.created, posts: stats.size, duplicates: inputs.length - todo.length };
      });
    }
    const pg = this.pg;
    if (pg) {
      // PostgreSQL: plain SQL on the direct pool, three statements whatever the batch's size. A unique violation (a
      // concurrent writer of the same event id or new user) or a deadlock is retried whole (up to 5 times).
      for (let attempt = 1; ; attempt++) {
        try {
          return await pg.transaction(async (tx) => {
            const stored = eventIds.length ? await tx.query<{ eventId: string }>(`SELECT "eventId" FROM "Interaction" WHERE "eventId" = ANY($1::text[])`, [eventIds]) : [];
            const todo = fresh(rows, stored);
            const stats = statsOf(todo);
            const users = await ensureUsersPg(tx, todo.map((r) => r.userId), now);
            await writeInteractionsPg(tx, interactions(todo, users.keys), stats.deltas());
            return { recorded: todo.length, usersCreated: users.created, posts: stats.size, duplicates: inputs.length - todo.length };
          });
        } catch (err) {
          if (attempt >= 5 || !(isDeadlock(err) || isUniqueViolation(err))) throw err;
          await new Promise((r) => setTimeout(r, 5 * attempt * Math.random()));
        }
      }
    }
    return retryTransaction(() =>
      this.prisma.$transaction(
        async (tx) => {
          const stored = eventIds.length ? await tx.interaction.findMany({ where: { eventId: { in: eventIds } }, select: { eventId: true } }) : [];
          const todo = fresh(rows, stored);
          const stats = statsOf(todo);
          const userIds = todo.map((r) => r.userId);
          const before = await tx.user.count({ where: { externalId: { in: [...new Set(userIds)] } } });
          const users = await UsersService.ensure(tx as Tx, userIds);
          await insertInteractions(tx as Tx, interactions(todo, users), this.provider);
          await applyStatDeltas(tx as Tx, this.provider, stats.deltas());
          return { recorded: todo.length, usersCreated: users.size - before, posts: stats.size, duplicates: inputs.length - todo.length };
        },
        { timeout: 60_000, maxWait: 30_000 },
      ),
    );
  }
}

/** validateId with the element's index on the error (a bad element names itself, as the other checks do). */
function checkId(kind: string, id: string, path: string, index: number): void {
  try {
    validateId(kind, id, path);
  } catch (err) {
    throw err instanceof AppError ? badInput(`${path}: ${err.message}`, { path, index }) : err;
  }
}
