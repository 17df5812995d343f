/**
 * What the InteractionStore implementations (sqlite/, postgres/, prisma/interactions.ts) share: the rows as stored,
 * the event-id skip, the statistics fold and the statement text common to the dialects.
 */
import { StatAccumulator } from '../lib/stat-accumulator.js';
import type { BatchRow } from './interactions.js';
import type { Provider } from './provider.js';

/** An Interaction row with its keys resolved. */
export interface InteractionRow {
  userId: number;
  postId: number;
  signalId: number;
  label: number;
  timestamp: Date;
  /** The producer's event id (memer ingest), unique when set; absent for imports and for recordInteractions inputs without one. */
  eventId?: string | null;
}

export const INSERT_INTERACTION = `INSERT INTO "Interaction" ("userId", "postId", "signalId", "label", "timestamp", "eventId")`;
export const INSERT_STAT_INTO = `INSERT INTO "PostSignalStat" ("postId", "signalId", "positives", "total", "firstSeen", "lastSeen")`;

/** The increment, with the dialect's two-argument min and max (SQLite MIN/MAX, PostgreSQL LEAST/GREATEST). */
export const onStatConflict = (provider: Provider) => {
  const [least, greatest] = provider === 'sqlite' ? ['MIN', 'MAX'] : ['LEAST', 'GREATEST'];
  return `ON CONFLICT ("postId", "signalId") DO UPDATE SET
    "positives" = "PostSignalStat"."positives" + excluded."positives",
    "total" = "PostSignalStat"."total" + excluded."total",
    "firstSeen" = ${least}("PostSignalStat"."firstSeen", excluded."firstSeen"),
    "lastSeen" = ${greatest}("PostSignalStat"."lastSeen", excluded."lastSeen")`;
};

/** The batch's event ids (rows without one carry none). */
export const eventIdsOf = (rows: readonly BatchRow[]): string[] => {
  const ids: string[] = [];
  for (const r of rows) if (r.eventId !== null) ids.push(r.eventId);
  return ids;
};

/** The rows whose event id is not among `stored` (rows without one are always written). */
export const fresh = (rows: readonly BatchRow[], stored: readonly { eventId: string | null }[]): readonly BatchRow[] => {
  const ids = new Set(stored.map((s) => s.eventId));
  return ids.size ? rows.filter((r) => r.eventId === null || !ids.has(r.eventId)) : rows;
};

export const statsOf = (rows: readonly BatchRow[]): StatAccumulator => {
  const stats = new StatAccumulator();
  for (const r of rows) stats.add(r.postKey, r.signalKey, r.label, r.timestamp);
  return stats;
};

/** The rows with their users' keys. */
export const keyed = (rows: readonly BatchRow[], users: Map<string, number>): InteractionRow[] =>
  rows.map((r) => ({ userId: users.get(r.userId)!, postId: r.postKey, signalId: r.signalKey, label: r.label, timestamp: r.timestamp, eventId: r.eventId }));
