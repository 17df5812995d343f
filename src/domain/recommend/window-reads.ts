/**
 * The recommendation indexes' reads of the refresh window (posts registered and vectors written after a time), on
 * SQLite through the direct connection (these run every refresh, on the event loop) and elsewhere through Prisma.
 * Counts come grouped by stamp, so a refresh under upload load reads a few hundred small groups instead of every
 * row of the look-back window (tens of thousands of rows, 15-40 ms of event loop every refresh at 1,000 uploads/s).
 */
import type { Prisma } from '../../data/db.js';
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { Stamped } from './seen-stamps.js';

/** Rows that carry one stamp: `raw` is the stamp as the database returned it, to ask for exactly those rows. */
export interface StampCount {
  at: number;
  n: number;
  raw: string | Date;
}

/** Most stamps in one `IN (...)` list. */
const IN_CHUNK = 256;

export class WindowReads {
  constructor(
    private readonly prisma: Prisma,
    private readonly direct?: DirectSqlite,
  ) {}

  /** Posts registered after `since`, counted per registeredAt (index-only on Post(registeredAt)). */
  async postCounts(since: Date): Promise<StampCount[]> {
    if (this.direct) {
      return this.direct.all<{ at: string; n: number }>(`SELECT "registeredAt" AS "at", COUNT(*) AS "n" FROM "Post" WHERE "registeredAt" > ? GROUP BY "registeredAt"`, sqliteDate(since)).map(fromText);
    }
    const groups = await this.prisma.post.groupBy({ by: ['registeredAt'], where: { registeredAt: { gt: since } }, _count: { _all: true } });
    return groups.map((g) => ({ at: g.registeredAt.getTime(), n: g._count._all, raw: g.registeredAt }));
  }

  /**
   * The signal's vectors written after `since`, counted per updatedAt (index-only on PostEmbedding(signalId, source,
   * updatedAt), one range per source; only MATURE and MEMER rows are ever stored, the filter lets the index serve).
   * A (signalId, updatedAt) index did this before migration 0007 dropped it: every upload wrote it six times, and a
   * group of six uploads' vector writes took 0.77 ms with it, 0.46 ms without.
   */
  async vectorCounts(signalKey: number, since: Date): Promise<StampCount[]> {
    if (this.direct) {
      return this.direct
        .all<{ at: string; n: number }>(`SELECT "updatedAt" AS "at", COUNT(*) AS "n" FROM "PostEmbedding" WHERE "signalId" = ? AND "source" IN ('MATURE', 'MEMER') AND "updatedAt" > ? GROUP BY "updatedAt"`, signalKey, sqliteDate(since))
        .map(fromText);
    }
    const groups = await this.prisma.postEmbedding.groupBy({ by: ['updatedAt'], where: { signalId: signalKey, source: { in: ['MATURE', 'MEMER'] }, updatedAt: { gt: since } }, _count: { _all: true } });
    return groups.map((g) => ({ at: g.updatedAt.getTime(), n: g._count._all, raw: g.updatedAt }));
  }

  /** Posts registered after `since` (a build reads its look-back window whole, once). */
  async postsSince(since: Date): Promise<Stamped[]> {
    if (this.direct) {
      return this.direct.all<{ id: number; at: string }>(`SELECT "id", "registeredAt" AS "at" FROM "Post" WHERE "registeredAt" > ?`, sqliteDate(since)).map((r) => ({ key: r.id, at: Date.parse(r.at) }));
    }
    const rows = await this.prisma.post.findMany({ where: { registeredAt: { gt: since } }, select: { id: true, registeredAt: true } });
    return rows.map((r) => ({ key: r.id, at: r.registeredAt.getTime() }));
  }

  /** The signal's MATURE and MEMER vectors written after `since`. */
  async vectorsSince(signalKey: number, since: Date): Promise<Stamped[]> {
    if (this.direct) {
      return this.direct
        .all<{ postId: number; at: string }>(`SELECT "postId", "updatedAt" AS "at" FROM "PostEmbedding" WHERE "signalId" = ? AND "updatedAt" > ? AND "source" IN ('MATURE', 'MEMER')`, signalKey, sqliteDate(since))
        .map((r) => ({ key: r.postId, at: Date.parse(r.at) }));
    }
    const rows = await this.prisma.postEmbedding.findMany({ where: { signalId: signalKey, updatedAt: { gt: since }, source: { in: ['MATURE', 'MEMER'] } }, select: { postId: true, updatedAt: true } });
    return rows.map((r) => ({ key: r.postId, at: r.updatedAt.getTime() }));
  }

  /** The posts registered at exactly these stamps. */
  async postsAt(stamps: readonly StampCount[]): Promise<Stamped[]> {
    return this.chunked(stamps, async (raws) => {
      if (this.direct) {
        return this.direct.all<{ id: number; at: string }>(`SELECT "id", "registeredAt" AS "at" FROM "Post" WHERE "registeredAt" IN (${marks(raws.length)})`, ...raws).map((r) => ({ key: r.id, at: Date.parse(r.at) }));
      }
      const rows = await this.prisma.post.findMany({ where: { registeredAt: { in: raws as Date[] } }, select: { id: true, registeredAt: true } });
      return rows.map((r) => ({ key: r.id, at: r.registeredAt.getTime() }));
    });
  }

  /** The signal's MATURE and MEMER vectors written at exactly these stamps. */
  async vectorsAt(signalKey: number, stamps: readonly StampCount[]): Promise<Stamped[]> {
    return this.chunked(stamps, async (raws) => {
      if (this.direct) {
        return this.direct
          .all<{ postId: number; at: string }>(`SELECT "postId", "updatedAt" AS "at" FROM "PostEmbedding" WHERE "signalId" = ? AND "updatedAt" IN (${marks(raws.length)}) AND "source" IN ('MATURE', 'MEMER')`, signalKey, ...raws)
          .map((r) => ({ key: r.postId, at: Date.parse(r.at) }));
      }
      const rows = await this.prisma.postEmbedding.findMany({ where: { signalId: signalKey, updatedAt: { in: raws as Date[] }, source: { in: ['MATURE', 'MEMER'] } }, select: { postId: true, updatedAt: true } });
      return rows.map((r) => ({ key: r.postId, at: r.updatedAt.getTime() }));
    });
  }

  /**
   * Runs `read` over the stamps in chunks; each chunk is padded to a power of two (repeating its last stamp) so that
   * the direct connection caches a handful of statements rather than one per list length.
   */
  private async chunked(stamps: readonly StampCount[], read: (raws: unknown[]) => Promise<Stamped[]>): Promise<Stamped[]> {
    const out: Stamped[] = [];
    for (let i = 0; i < stamps.length; i += IN_CHUNK) {
      const raws: unknown[] = stamps.slice(i, i + IN_CHUNK).map((s) => s.raw);
      while (raws.length & (raws.length - 1)) raws.push(raws[raws.length - 1]);
      out.push(...(await read(raws)));
    }
    return out;
  }
}

const fromText = (g: { at: string; n: number }): StampCount => ({ at: Date.parse(g.at), n: g.n, raw: g.at });
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
