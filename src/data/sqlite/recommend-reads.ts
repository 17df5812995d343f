/**
 * The recommendation reads on a SQLite file: plain SQL on the direct connection (../direct-sqlite.ts), not Prisma.
 * The window's reads run every refresh on the event loop, the user and post reads every request (Prisma cost ~1 ms of
 * a ~5 ms request here). Id lists travel as one JSON parameter (json_each) and stamp lists are padded (inChunks), so
 * each statement text is prepared once.
 */
import { sqliteDate, type DirectSqlite } from '../direct-sqlite.js';
import { inChunks } from '../recommend-statements.js';
import type { PostTagsRow, RecommendationReads, StampCount, StampedRow, UserContextRow } from '../recommend-reads.js';

type StoredPost = Omit<PostTagsRow, 'createdAt' | 'registeredAt' | 'tags'> & { createdAt: string; registeredAt: string; tags: string };

export class SqliteRecommendationReads implements RecommendationReads {
  constructor(private readonly db: DirectSqlite) {}

  async postCounts(since: Date): Promise<StampCount[]> {
    return this.db.all<{ at: string; n: number }>(`SELECT "registeredAt" AS "at", COUNT(*) AS "n" FROM "Post" WHERE "registeredAt" > ? GROUP BY "registeredAt"`, sqliteDate(since)).map(fromText);
  }

  /** On PostEmbedding(signalId, source, updatedAt): migration 0007 dropped a (signalId, updatedAt) index that every upload wrote six times. */
  async vectorCounts(signalKey: number, since: Date): Promise<StampCount[]> {
    return this.db
      .all<{ at: string; n: number }>(`SELECT "updatedAt" AS "at", COUNT(*) AS "n" FROM "PostEmbedding" WHERE "signalId" = ? AND "source" IN ('MATURE', 'MEMER') AND "updatedAt" > ? GROUP BY "updatedAt"`, signalKey, sqliteDate(since))
      .map(fromText);
  }

  async postsSince(since: Date): Promise<StampedRow[]> {
    return this.db.all<{ id: number; at: string }>(`SELECT "id", "registeredAt" AS "at" FROM "Post" WHERE "registeredAt" > ?`, sqliteDate(since)).map((r) => ({ key: r.id, at: Date.parse(r.at) }));
  }

  async vectorsSince(signalKey: number, since: Date): Promise<StampedRow[]> {
    return this.db
      .all<{ postId: number; at: string }>(`SELECT "postId", "updatedAt" AS "at" FROM "PostEmbedding" WHERE "signalId" = ? AND "updatedAt" > ? AND "source" IN ('MATURE', 'MEMER')`, signalKey, sqliteDate(since))
      .map((r) => ({ key: r.postId, at: Date.parse(r.at) }));
  }

  postsAt(stamps: readonly StampCount[]): Promise<StampedRow[]> {
    return inChunks(stamps, async (raws) =>
      this.db.all<{ id: number; at: string }>(`SELECT "id", "registeredAt" AS "at" FROM "Post" WHERE "registeredAt" IN (${marks(raws.length)})`, ...raws).map((r) => ({ key: r.id, at: Date.parse(r.at) })),
    );
  }

  vectorsAt(signalKey: number, stamps: readonly StampCount[]): Promise<StampedRow[]> {
    return inChunks(stamps, async (raws) =>
      this.db
        .all<{ postId: number; at: string }>(`SELECT "postId", "updatedAt" AS "at" FROM "PostEmbedding" WHERE "signalId" = ? AND "updatedAt" IN (${marks(raws.length)}) AND "source" IN ('MATURE', 'MEMER')`, signalKey, ...raws)
        .map((r) => ({ key: r.postId, at: Date.parse(r.at) })),
    );
  }

  async userContext(externalId: string, signalKey: number, recentLimit: number): Promise<UserContextRow | null> {
    const [user] = this.db.all<{ id: number }>(`SELECT "id" FROM "User" WHERE "externalId" = ?`, externalId);
    if (!user) return null;
    const recent = this.db.all<{ postId: number }>(`SELECT "postId" FROM "Interaction" WHERE "userId" = ? ORDER BY "timestamp" DESC LIMIT ?`, user.id, recentLimit);
    const [embedding] = this.db.all<{ vector: Uint8Array }>(`SELECT "vector" FROM "UserEmbedding" WHERE "userId" = ? AND "signalId" = ?`, user.id, signalKey);
    return { recent: recent.map((r) => r.postId), vector: embedding?.vector ?? null };
  }

  /** One statement, the tags as a JSON array (the same text as the upload path's post reader, domain/posts/posts.direct.ts). */
  async postsByKey(keys: readonly number[]): Promise<PostTagsRow[]> {
    const rows = this.db.all<StoredPost>(
      `SELECT p."id", p."externalId", p."mediaType", p."text", p."createdAt", p."registeredAt",
      (SELECT json_group_array(t."tag") FROM "PostTag" t WHERE t."postId" = p."id") AS "tags"
     FROM "Post" p WHERE p."id" IN (SELECT value FROM json_each(?))`,
      JSON.stringify(keys),
    );
    return rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt), registeredAt: new Date(r.registeredAt), tags: (JSON.parse(r.tags) as string[]).map((tag) => ({ tag })) }));
  }
}

const fromText = (g: { at: string; n: number }): StampCount => ({ at: Date.parse(g.at), n: g.n, raw: g.at });
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
