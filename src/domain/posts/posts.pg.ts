/**
 * Posts on PostgreSQL's direct pool (data/direct-postgres.ts): the post reader of uploads (a retry's stored posts),
 * one statement with the tags as an array (the recommendations' result posts: data/postgres/recommend-reads.ts).
 */
import type { PgQuery } from '../../data/direct-postgres.js';
import type { MediaType, PostRecord } from '../types.js';
import { toPostRecord } from './post-records.js';

type StoredRow = { id: number; externalId: string; mediaType: MediaType; text: string; createdAt: number; registeredAt: number; tags: string[] };

/** Posts (with their tags) by internal key or by external id. */
export async function readPostsPg(db: PgQuery, by: 'id' | 'externalId', values: readonly (number | string)[]): Promise<PostRecord[]> {
  const rows = await db.query<StoredRow>(
    // Times as epoch milliseconds: node-postgres would parse a `timestamp` column as local time, and the columns hold UTC.
    `SELECT p."id", p."externalId", p."mediaType", p."text",
       (EXTRACT(EPOCH FROM p."createdAt") * 1000)::float8 AS "createdAt", (EXTRACT(EPOCH FROM p."registeredAt") * 1000)::float8 AS "registeredAt",
       ARRAY(SELECT t."tag" FROM "PostTag" t WHERE t."postId" = p."id") AS "tags"
     FROM "Post" p WHERE p."${by}" = ANY($1::${by === 'id' ? 'int' : 'text'}[])`,
    [values],
  );
  return rows.map((r) => toPostRecord({ ...r, createdAt: new Date(r.createdAt), registeredAt: new Date(r.registeredAt), tags: r.tags.map((tag) => ({ tag })) }));
}
