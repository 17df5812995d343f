/**
 * The recommendation reads on PostgreSQL: the per-request reads (the user, the result posts) as plain SQL on the
 * direct pool (../direct-postgres.ts; Prisma cost ~1.2 ms of a ~2 ms request at 100k posts), one statement each; the
 * refresh window's reads stay on Prisma, as PrismaRecommendationReads reads them (off the request path, on the pool's
 * own connections).
 */
import type { Prisma } from '../db.js';
import type { DirectPostgres } from '../direct-postgres.js';
import { PrismaRecommendationReads } from '../prisma/recommend-reads.js';
import type { PostTagsRow, UserContextRow } from '../recommend-reads.js';

type StoredPost = Omit<PostTagsRow, 'createdAt' | 'registeredAt' | 'tags'> & { createdAt: number; registeredAt: number; tags: string[] };

export class PostgresRecommendationReads extends PrismaRecommendationReads {
  constructor(
    prisma: Prisma,
    private readonly pg: DirectPostgres,
  ) {
    super(prisma);
  }

  override async userContext(externalId: string, signalKey: number, recentLimit: number): Promise<UserContextRow | null> {
    const [user] = await this.pg.query<UserContextRow>(
      `SELECT ARRAY(SELECT i."postId" FROM "Interaction" i WHERE i."userId" = u."id" ORDER BY i."timestamp" DESC LIMIT $3) AS "recent",
           (SELECT e."vector" FROM "UserEmbedding" e WHERE e."userId" = u."id" AND e."signalId" = $2) AS "vector"
         FROM "User" u WHERE u."externalId" = $1`,
      [externalId, signalKey, recentLimit],
    );
    return user ?? null;
  }

  /** One statement, the tags as an array (the same text as the upload path's post reader, domain/posts/posts.pg.ts). */
  override async postsByKey(keys: readonly number[]): Promise<PostTagsRow[]> {
    const rows = await this.pg.query<StoredPost>(
      // Times as epoch milliseconds: node-postgres would parse a `timestamp` column as local time, and the columns hold UTC.
      `SELECT p."id", p."externalId", p."mediaType", p."text",
       (EXTRACT(EPOCH FROM p."createdAt") * 1000)::float8 AS "createdAt", (EXTRACT(EPOCH FROM p."registeredAt") * 1000)::float8 AS "registeredAt",
       ARRAY(SELECT t."tag" FROM "PostTag" t WHERE t."postId" = p."id") AS "tags"
     FROM "Post" p WHERE p."id" = ANY($1::int[])`,
      [keys],
    );
    return rows.map((r) => ({ ...r, createdAt: new Date(r.createdAt), registeredAt: new Date(r.registeredAt), tags: r.tags.map((tag) => ({ tag })) }));
  }
}
