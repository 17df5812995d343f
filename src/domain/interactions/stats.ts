/**
 * Per post and signal statistics (positives, total, first and last seen), incremented with one
 * INSERT .. ON CONFLICT per chunk inside the caller's transaction (in (post, signal) order on PostgreSQL, so that two
 * concurrent batches lock the rows they share in one order), so they never disagree with the interaction rows.
 */
import type { Tx } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { Provider } from '../../data/provider.js';
import { sqliteChunks } from './bulk.js';

export interface StatDelta {
  postKey: number;
  signalKey: number;
  positives: number;
  total: number;
  first: Date;
  last: Date;
}

/** Deltas per statement on the Prisma path. */
const CHUNK = 20_000;

/** Folds interactions into one delta per post and signal. */
export class StatAccumulator {
  private readonly groups = new Map<string, StatDelta>();

  add(postKey: number, signalKey: number, label: number, at: Date): void {
    const k = `${postKey}:${signalKey}`;
    const g = this.groups.get(k);
    if (!g) this.groups.set(k, { postKey, signalKey, positives: label, total: 1, first: at, last: at });
    else {
      g.positives += label;
      g.total += 1;
      if (at < g.first) g.first = at;
      if (at > g.last) g.last = at;
    }
  }

  get size(): number {
    return this.groups.size;
  }

  deltas(): StatDelta[] {
    return [...this.groups.values()];
  }
}

const INSERT_STAT_INTO = `INSERT INTO "PostSignalStat" ("postId", "signalId", "positives", "total", "firstSeen", "lastSeen")`;
const INSERT_STAT = `${INSERT_STAT_INTO} VALUES`;
/** The increment, with the provider's two-argument min and max (SQLite MIN/MAX, PostgreSQL LEAST/GREATEST). */
export const onStatConflict = (provider: Provider) => {
  const [least, greatest] = provider === 'sqlite' ? ['MIN', 'MAX'] : ['LEAST', 'GREATEST'];
  return `ON CONFLICT ("postId", "signalId") DO UPDATE SET
    "positives" = "PostSignalStat"."positives" + excluded."positives",
    "total" = "PostSignalStat"."total" + excluded."total",
    "firstSeen" = ${least}("PostSignalStat"."firstSeen", excluded."firstSeen"),
    "lastSeen" = ${greatest}("PostSignalStat"."lastSeen", excluded."lastSeen")`;
};

/** Inside the caller's Prisma transaction: one statement per chunk, its deltas as one JSON text (SQLite) or arrays (PostgreSQL), as bulk.ts. */
export async function applyStatDeltas(tx: Tx, provider: Provider, deltas: StatDelta[]): Promise<void> {
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

/** applyStatDeltas on SQLite's direct connection, inside its (synchronous) transaction: multi-row statements (bulk.ts). */
export function applyStatDeltasDirect(db: DirectSqlite, deltas: readonly StatDelta[]): void {
  for (const [start, size] of sqliteChunks(deltas.length)) {
    const params: unknown[] = [];
    for (let i = start; i < start + size; i++) {
      const g = deltas[i];
      params.push(g.postKey, g.signalKey, g.positives, g.total, sqliteDate(g.first), sqliteDate(g.last));
    }
    db.run(`${INSERT_STAT} ${Array.from({ length: size }, () => '(?, ?, ?, ?, ?, ?)').join(', ')} ${onStatConflict('sqlite')}`, ...params);
  }
}
