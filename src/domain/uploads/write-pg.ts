/**
 * The upload write on PostgreSQL's direct pool (data/direct-postgres.ts): write-direct.ts's rows and rules in plain
 * SQL, each table's rows bound as arrays and expanded with unnest, so a group of any size is one statement per step:
 * the stored hashes of its ids, the active-model check, then posts, tags, features and MEMER vectors in one statement
 * (data-modifying CTEs that join on the new posts' ids). Byte columns are slices of one binary parameter (concatenated);
 * enum columns take text arrays cast to their types; timestamps
 * travel as ISO strings into `timestamp(3)` columns, which keep the UTC time as Prisma writes it.
 */
import type { PgTx } from '../../data/direct-postgres.js';
import { bytesOf } from '../../lib/vectors.js';
import type { PostEmbeddingRow } from '../../data/embeddings.js';
import { stillActive } from '../../data/postgres/embeddings.js';
import { checkStored, freshRecord, uniqueById, type Written } from '../posts/post-records.js';
import { readPostsPg } from '../posts/posts.pg.js';
import type { NormalizedPost } from '../posts/post.validation.js';
import type { PostRecord } from '../types.js';
import { StaleModels, storedRows } from './write-direct.js';

/**
 * Byte columns travel as one binary parameter per statement, each row a slice of it (1-based `at`): node-postgres
 * sends a Buffer parameter as binary, but a bytea[] as a text array of hex, twice the bytes, encoded and parsed again.
 */
function concatenated(parts: readonly Uint8Array[]): { blob: Buffer; at: number[] } {
  const at: number[] = [];
  let offset = 1;
  for (const p of parts) {
    at.push(offset);
    offset += p.byteLength;
  }
  return { blob: Buffer.concat(parts), at };
}

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
  SELECT p."id", x.modality, 'FLOAT16', x.dim, substring($12::bytea FROM x.at FOR x.dim * 2)
  FROM unnest($9::text[], $10::"Modality"[], $11::int[], $20::int[]) AS x(eid, modality, dim, at) JOIN p ON p."externalId" = x.eid
), e AS (
  INSERT INTO "PostEmbedding" ("postId", "signalId", "source", "modelVersionId", "dim", "vector", "views", "updatedAt")
  SELECT p."id", x.signal, x.source, x.version, x.dim, substring($18::bytea FROM x.at FOR x.dim * 4), x.views, $5::timestamp(3)
  FROM unnest($13::text[], $14::int[], $15::"EmbeddingSource"[], $16::int[], $17::int[], $21::int[], $19::int[])
    AS x(eid, signal, source, version, dim, at, views) JOIN p ON p."externalId" = x.eid
)
SELECT "id", "externalId" FROM p`;

/** Inside the caller's transaction. `check`: first make sure the rows' model versions are still active. */
export async function writeUploadsPg(tx: PgTx, posts: readonly NormalizedPost[], rows: readonly PostEmbeddingRow[], check: boolean): Promise<{ written: Written; stored: PostEmbeddingRow[] }> {
  const unique = uniqueById(posts);
  const now = new Date();
  if (check && rows.length > 0 && !(await stillActive(tx, rows))) throw new StaleModels();
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
  const featureBytes = concatenated(features.map((f) => f.data));
  const vectorBytes = concatenated(e.map((r) => bytesOf(r.vector)));
  const keys = await tx.query<{ id: number; externalId: string }>(INSERT_GROUP, [
    fresh.map((p) => p.externalId), fresh.map((p) => p.mediaType), fresh.map((p) => p.text), fresh.map((p) => p.createdAt.toISOString()),
    now.toISOString(), fresh.map((p) => p.payloadHash),
    tags.map((t) => t[0]), tags.map((t) => t[1]),
    features.map((f) => f.eid), features.map((f) => f.modality), features.map((f) => f.dim), featureBytes.blob,
    e.map((r) => r.eid), e.map((r) => r.signalKey), e.map((r) => r.source), e.map((r) => r.modelVersionKey), e.map((r) => r.vector.length),
    vectorBytes.blob, e.map((r) => r.views), featureBytes.at, vectorBytes.at,
  ]);
  const keyOf = new Map(keys.map((k) => [k.externalId, Number(k.id)]));
  for (const p of fresh) records.set(p.externalId, freshRecord(p, keyOf.get(p.externalId)!, now));
  const written: Written = { records, created: new Set(fresh.map((p) => p.externalId)), at: now };
  return { written, stored: storedRows(rows, posts, written) };
}
