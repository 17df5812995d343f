/**
 * The upload write on SQLite's direct connection (data/direct-sqlite.ts): the posts, then the MEMER vectors of the
 * posts it created, in one synchronous transaction. Predictions carry keys -(input index + 1) until the posts have
 * keys; storedRows maps them (also for the Prisma path in uploads.service.ts).
 */
import type { DirectSqlite } from '../../data/direct-sqlite.js';
import type { PostEmbeddingRow } from '../../data/embeddings.js';
import { stillActive, upsertPostEmbeddings } from '../../data/sqlite/embeddings.js';
import { uniqueById, type Written } from '../posts/post-records.js';
import type { NormalizedPost } from '../posts/post.validation.js';
import { writePostsDirect } from '../posts/posts.direct.js';

/** Thrown inside the write transaction when an activation retired the predicting models: roll back and redo. */
export class StaleModels extends Error {
  constructor() {
    super('the predicting model versions were retired during the upload');
  }
}

/** The prediction rows of the posts `written` created, under their real keys (prediction key -(i + 1) = posts[i]). */
export function storedRows(rows: readonly PostEmbeddingRow[], posts: readonly NormalizedPost[], { records, created }: Written): PostEmbeddingRow[] {
  return rows.flatMap((r) => {
    const input = posts[-r.postKey - 1];
    return created.has(input.externalId) ? [{ ...r, postKey: records.get(input.externalId)!.key }] : [];
  });
}

/** Inside the caller's transaction. `check`: first make sure the rows' model versions are still active. */
export function writeUploadsDirect(db: DirectSqlite, posts: readonly NormalizedPost[], rows: readonly PostEmbeddingRow[], check: boolean): { written: Written; stored: PostEmbeddingRow[] } {
  // Stamped inside the transaction (which may have waited for the write lock), so it is close to the commit.
  const written = writePostsDirect(db, uniqueById(posts), new Date());
  if (check && rows.length > 0 && !stillActive(db, rows)) throw new StaleModels();
  const stored = storedRows(rows, posts, written);
  upsertPostEmbeddings(db, stored, written.at);
  return { written, stored };
}
