/**
 * The interactions store through Prisma: the fallback for a database without a direct connection (SQLite in memory,
 * `file::memory:`). Also the bulk writers that run inside a caller's Prisma transaction on either database
 * (`memer import`): multi-row statements whose rows travel as one JSON text (SQLite, json_each) or six arrays
 * (PostgreSQL, unnest), because Prisma's cost is per bound parameter (its query pipeline, then the driver adapter) and
 * createMany spends most of its time in the client runtime per row (`memer import` of ml-latest-small went from ~30 s
 * to a few seconds).
 */
import type { StatDelta } from '../../lib/stat-accumulator.js';
import type { Prisma, Tx } from '../db.js';
import { sqliteDate } from '../direct-sqlite.js';
import { eventIdsOf, fresh, INSERT_INTERACTION, INSERT_STAT_INTO, keyed, onStatConflict, statsOf, type InteractionRow } from '../interaction-statements.js';
import type { BatchRow, BatchWritten, InteractionStore, PostRow, SignalRow } from '../interactions.js';
import type { Provider } from '../provider.js';
import { retryTransaction } from '../retry.js';

/** Rows (or deltas) per statement. */
const CHUNK = 20_000;

export class PrismaInteractionStore implements InteractionStore {
  constructor(
    private readonly prisma: Prisma,
    private readonly provider: Provider,
  ) {}

  signals(): Promise<SignalRow[]> {
    return this.prisma.signal.findMany({ orderBy: { id: 'asc' }, select: { id: true, name: true, kind: true, appliesToVideo: true, appliesToImage: true, description: true } });
  }

  postsByExternalId(ids: readonly string[]): Promise<PostRow[]> {
    return this.prisma.post.findMany({ where: { externalId: { in: [...ids] } }, select: { id: true, externalId: true, mediaType: true } });
  }

  /** New users get Prisma's createdAt/updatedAt defaults (the direct stores write the batch's `now`). */
  writeBatch(rows: readonly BatchRow[]): Promise<BatchWritten> {
    const eventIds = eventIdsOf(rows);
    return retryTransaction(() =>
      this.prisma.$transaction(
        async (tx) => {
          const stored = eventIds.length ? await tx.interaction.findMany({ where: { eventId: { in: eventIds } }, select: { eventId: true } }) : [];
          const todo = fresh(rows, stored);
          const stats = statsOf(todo);
          const users = await ensureUsers(tx as Tx, todo.map((r) => r.userId));
          await insertInteractions(tx as Tx, keyed(todo, users.keys), this.provider);
          await applyStatDeltas(tx as Tx, this.provider, stats.deltas());
          return { recorded: todo.length, usersCreated: users.created, posts: stats.size };
        },
        { timeout: 60_000, maxWait: 30_000 },
      ),
    );
  }
}

/** Internal keys of these users, creating the missing ones (inside the caller's transaction); also how many it created. */
export async function ensureUsers(tx: Tx, externalIds: readonly string[]): Promise<{ keys: Map<string, number>; created: number }> {
  const ids = [...new Set(externalIds)];
  const found = await tx.user.findMany({ where: { externalId: { in: ids } }, select: { id: true, externalId: true } });
  const keys = new Map(found.map((u) => [u.externalId, u.id]));
  const missing = ids.filter((id) => !keys.has(id));
  if (missing.length) {
    const created = await tx.user.createManyAndReturn({ data: missing.map((externalId) => ({ externalId })), select: { id: true, externalId: true } });
    for (const u of created) keys.set(u.externalId, u.id);
  }
  return { keys, created: keys.size - found.length };
}

/** Interaction rows inside the caller's Prisma transaction: one statement per CHUNK rows. */
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

/** Statistics increments inside the caller's Prisma transaction: one statement per CHUNK deltas, in (post, signal) order. */
export async function applyStatDeltas(tx: Tx, provider: Provider, deltas: readonly StatDelta[]): Promise<void> {
  for (let i = 0; i < deltas.length; i += CHUNK) {
    const part = [...deltas.slice(i, i + CHUNK)].sort((a, b) => a.postKey - b.postKey || a.signalKey - b.signalKey);
    if (provider === 'sqlite') {
      const json = JSON.stringify(part.map((g) => [g.postKey, g.signalKey, g.positives, g.total, sqliteDate(g.first), sqliteDate(g.last)]));
      // WHERE true: SQLite's parser needs it between INSERT .. SELECT and ON CONFLICT.
      await tx.$executeRawUnsafe(`${INSERT_STAT_INTO} SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM json_each(?) WHERE true ${onStatConflict(provider)}`, json);
    } else {
      await tx.$executeRawUnsafe(
        `${INSERT_STAT_INTO} SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::timestamp(3)[], $6::timestamp(3)[]) ORDER BY 1, 2 ${onStatConflict(provider)}`,
        part.map((g) => g.postKey), part.map((g) => g.signalKey), part.map((g) => g.positives), part.map((g) => g.total), part.map((g) => g.first.toISOString()), part.map((g) => g.last.toISOString()),
      );
    }
  }
}
