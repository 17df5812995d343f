/**
 * The upload write on PostgreSQL's direct pool (data/direct-postgres.ts): write-direct.ts's rows and rules in plain
 * SQL, each table's rows bound as arrays and expanded with unnest, so a group of any size is one statement per step:
 * the stored hashes of its ids, the active-model check, then posts, tags, features and MEMER vectors in one statement
 * (data-modifying CTEs that join on the new posts' ids). Enum columns take text arrays cast to their types; timestamps
 * travel as ISO strings into `timestamp(3)` columns, which keep the UTC time as Prisma writes it.
 */
import type { PgTx } from '../../data/direct-postgres.js';
import { bytesOf } from '../../lib/vectors.js';
import type { PostEmbeddingRow } from '../embeddings/store.js';
import { checkStored, freshRecord, uniqueById, type Written } from '../posts/post-records.js';
import { readPostsPg } from '../posts/posts.pg.js';
import type { NormalizedPost } from '../posts/post.validation.js';
import type { PostRecord } from '../types.js';
import { StaleModels, storedRows } from './write-direct.js';

/** node-postgres writes a Buffer in a bytea array (as hex), not a plain Uint8Array: a view, no copy. */
const buffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

const INSERT_GROUP = `
WITH p AS (
  INSERT INTO "Post" ("externalId", "mediaType", "text", "createdAt", "registeredAt", "payloadHash")
  SELECT x.eid, x.media, x.text, x.created, $5::timestamp(3), x.hash
  FROM unnest($1::text[], $2::"MediaType"[], $3::text[], $4::timestamp(3)[], $6::text[]) AS x(eid, media, text, created, hash)
  RETURNING "id", "externalId"
), t AS (
  INSERT INTO "PostTag" ("postId", "tag")
  SELECT p."id", x.tag FROM unnest($7::text[], $8::text[]) AS x(eid, tag) JOIN p ON p."externalId" = x.eid
), f AS (
  INSERT INTO "PostFeature" ("postId", "modality", "dtype", "dim", "data")
  SELECT p."id", x.modality, 'FLOAT16', x.dim, x.data
  FROM unnest($9::text[], $10::"Modality"[], $11::int[], $12::bytea[]) AS x(eid, modality, dim, data) JOIN p ON p."externalId" = x.eid
), e AS (
  INSERT INTO "PostEmbedding" ("postId", "signalId", "source", "modelVersionId", "dim", "vector", "views", "updatedAt")
  SELECT p."id", x.signal, x.source, x.version, x.dim, x.vector, x.views, $5::timestamp(3)
  FROM unnest($13::text[], $14::int[], $15::"EmbeddingSource"[], $16::int[], $17::int[], $18::bytea[], $19::int[])
    AS x(eid, signal, source, version, dim, vector, views) JOIN p ON p."externalId" = x.eid
)
SELECT "id", "externalId" FROM p`;

/** Inside the caller's transaction. `check`: first make sure the rows' model versions are still active. */
export async function writeUploadsPg(tx: PgTx, posts: readonly NormalizedPost[], rows: readonly PostEmbeddingRow[], check: boolean): Promise<{ written: Written; stored: PostEmbeddingRow[] }> {
  const unique = uniqueById(posts);
  const now = new Date();
  if (check && rows.length > 0) {
    const versions = [...new Set(rows.map((r) => r.modelVersionKey!))];
    const [{ n }] = await tx.query<{ n: number }>(`SELECT COUNT(*)::int AS "n" FROM "ModelVersion" WHERE "id" = ANY($1::int[]) AND "active"`, [versions]);
    if (n !== versions.length) throw new StaleModels();
  }
  const hashes = await tx.query<{ externalId: string; payloadHash: string }>(`SELECT "externalId", "payloadHash" FROM "Post" WHERE "externalId" = ANY($1::text[])`, [unique.map((p) => p.externalId)]);
  checkStored(new Map(hashes.map((h) => [h.externalId, h.payloadHash])), unique);
  const records = new Map<string, PostRecord>();
  if (hashes.length) for (const r of await readPostsPg(tx, 'externalId', hashes.map((h) => h.externalId))) records.set(r.id, r);
  const fresh = unique.filter((p) => !records.has(p.externalId));
  if (fresh.length === 0) return { written: { records, created: new Set(), at: now }, stored: [] };

  // The vectors of the fresh posts, by external id (their keys come back from the insert).
  const embeddings = rows.flatMap((r) => {
    const input = posts[-r.postKey - 1];
    return records.has(input.externalId) ? [] : [{ ...r, eid: input.externalId }];
  });
  const byKey = new Map(embeddings.map((r) => [`${r.eid}:${r.signalKey}:${r.source}`, r])); // one row per key: the last wins
  const e = [...byKey.values()];
  const tags = fresh.flatMap((p) => p.tags.map((tag) => [p.externalId, tag]));
  const features = fresh.flatMap((p) => p.features.map((f) => ({ eid: p.externalId, ...f })));
  const keys = await tx.query<{ id: number; externalId: string }>(INSERT_GROUP, [
    fresh.map((p) => p.externalId), fresh.map((p) => p.mediaType), fresh.map((p) => p.text), fresh.map((p) => p.createdAt.toISOString()),
    now.toISOString(), fresh.map((p) => p.payloadHash),
    tags.map((t) => t[0]), tags.map((t) => t[1]),
    features.map((f) => f.eid), features.map((f) => f.modality), features.map((f) => f.dim), features.map((f) => buffer(f.data)),
    e.map((r) => r.eid), e.map((r) => r.signalKey), e.map((r) => r.source), e.map((r) => r.modelVersionKey), e.map((r) => r.vector.length),
    e.map((r) => buffer(bytesOf(r.vector))), e.map((r) => r.views),
  ]);
  const keyOf = new Map(keys.map((k) => [k.externalId, Number(k.id)]));
  for (const p of fresh) records.set(p.externalId, freshRecord(p, keyOf.get(p.externalId)!, now));
  const written: Written = { records, created: new Set(fresh.map((p) => p.externalId)), at: now };
  return { written, stored: storedRows(rows, posts, written) };
}
