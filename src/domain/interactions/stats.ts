/**
 * Per post and signal statistics (positives, total, first and last seen), incremented with one
 * INSERT .. ON CONFLICT per chunk inside the caller's transaction, so they never disagree with the interaction rows.
 */
import type { Tx } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { Provider } from '../../data/provider.js';
import { Prisma as Sql } from '../../generated/sqlite/client.js';

export interface StatDelta {
  postKey: number;
  signalKey: number;
  positives: number;
  total: number;
  first: Date;
  last: Date;
}

/** 6 parameters a row: stays well under SQLite's and PostgreSQL's bound-parameter limits. */
const CHUNK = 2000;

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

const INSERT_STAT = `INSERT INTO "PostSignalStat" ("postId", "signalId", "positives", "total", "firstSeen", "lastSeen") VALUES`;
/** The increment, with the provider's two-argument min and max (SQLite MIN/MAX, PostgreSQL LEAST/GREATEST). */
const onStatConflict = (provider: Provider) => {
  const [least, greatest] = provider === 'sqlite' ? ['MIN', 'MAX'] : ['LEAST', 'GREATEST'];
  return `ON CONFLICT ("postId", "signalId") DO UPDATE SET
    "positives" = "PostSignalStat"."positives" + excluded."positives",
    "total" = "PostSignalStat"."total" + excluded."total",
    "firstSeen" = ${least}("PostSignalStat"."firstSeen", excluded."firstSeen"),
    "lastSeen" = ${greatest}("PostSignalStat"."lastSeen", excluded."lastSeen")`;
};

export async function applyStatDeltas(tx: Tx, provider: Provider, deltas: StatDelta[]): Promise<void> {
  for (let i = 0; i < deltas.length; i += CHUNK) {
    const values = Sql.join(deltas.slice(i, i + CHUNK).map((g) => Sql.sql`(${g.postKey}, ${g.signalKey}, ${g.positives}, ${g.total}, ${g.first}, ${g.last})`));
    await tx.$executeRaw`${Sql.raw(INSERT_STAT)} ${values} ${Sql.raw(onStatConflict(provider))}`;
  }
}

/** applyStatDeltas on SQLite's direct connection, inside its (synchronous) transaction. */
export function applyStatDeltasDirect(db: DirectSqlite, deltas: readonly StatDelta[]): void {
  for (const g of deltas) db.run(`${INSERT_STAT} (?, ?, ?, ?, ?, ?) ${onStatConflict('sqlite')}`, g.postKey, g.signalKey, g.positives, g.total, sqliteDate(g.first), sqliteDate(g.last));
}
