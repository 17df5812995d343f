/**
 * Posts on SQLite's direct connection (data/direct-sqlite.ts): `writePosts`'s rows and rules for uploads, as
 * synchronous prepared statements inside the caller's transaction, and the post reader of uploads (the recommendations'
 * result posts are read by data/sqlite/recommend-reads.ts). Id lists travel as one JSON parameter (json_each), so each statement text is prepared once.
 */
import { sqliteDate, type DirectSqlite } from '../../data/direct-sqlite.js';
import type { MediaType, PostRecord } from '../types.js';
import { checkStored, freshRecord, toPostRecord, type Written } from './post-records.js';
import type { NormalizedPost } from './post.validation.js';

type StoredRow = { id: number; externalId: string; mediaType: MediaType; text: string; createdAt: string; registeredAt: string; tags: string };

export function writePostsDirect(db: DirectSqlite, posts: NormalizedPost[], now: Date): Written {
  const ids = JSON.stringify(posts.map((p) => p.externalId));
  const hashes = db.all<{ externalId: string; payloadHash: string }>(`SELECT "externalId", "payloadHash" FROM "Post" WHERE "externalId" IN (SELECT value FROM json_each(?))`, ids);
  checkStored(new Map(hashes.map((h) => [h.externalId, h.payloadHash])), posts);
  const records = new Map<string, PostRecord>();
  if (hashes.length) for (const r of readPostsDirect(db, 'externalId', hashes.map((h) => h.externalId))) records.set(r.id, r);
  const fresh = posts.filter((p) => !records.has(p.externalId));
  const at = sqliteDate(now);
  for (const p of fresh) {
    const key = Number(
      db.run(`INSERT INTO "Post" ("externalId", "mediaType", "text", "createdAt", "registeredAt", "payloadHash") VALUES (?, ?, ?, ?, ?, ?)`, p.externalId, p.mediaType, p.text, sqliteDate(p.createdAt), at, p.payloadHash)
        .lastInsertRowid,
    );
    for (const tag of p.tags) db.run(`INSERT INTO "PostTag" ("postId", "tag") VALUES (?, ?)`, key, tag);
    for (const f of p.features) db.run(`INSERT INTO "PostFeature" ("postId", "modality", "dtype", "dim", "data") VALUES (?, ?, 'FLOAT16', ?, ?)`, key, f.modality, f.dim, f.data);
    records.set(p.externalId, freshRecord(p, key, now));
  }
  return { records, created: new Set(fresh.map((p) => p.externalId)), at: now };
}

/** Posts (with their tags) by internal key or by external id, in one statement. */
export function readPostsDirect(db: DirectSqlite, by: 'id' | 'externalId', values: readonly (number | string)[]): PostRecord[] {
  const rows = db.all<StoredRow>(
    `SELECT p."id", p."externalId", p."mediaType", p."text", p."createdAt", p."registeredAt",
      (SELECT json_group_array(t."tag") FROM "PostTag" t WHERE t."postId" = p."id") AS "tags"
     FROM "Post" p WHERE p."${by}" IN (SELECT value FROM json_each(?))`,
    JSON.stringify(values),
  );
  return rows.map((r) =>
    toPostRecord({ ...r, createdAt: new Date(r.createdAt), registeredAt: new Date(r.registeredAt), tags: (JSON.parse(r.tags) as string[]).map((tag) => ({ tag })) }),
  );
}
