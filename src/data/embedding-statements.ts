/**
 * What the EmbeddingStore implementations (sqlite/, postgres/, prisma/embeddings.ts) share: the statement text common
 * to the dialects and the versions an active-model check looks at.
 */
import type { PostEmbeddingRow } from './embeddings.js';

/** The post-embedding upsert every write path runs, up to its VALUES. */
export const INSERT_POST_EMBEDDING = `INSERT INTO "PostEmbedding" ("postId", "signalId", "source", "modelVersionId", "dim", "vector", "views", "updatedAt") VALUES`;
export const ON_POST_EMBEDDING_CONFLICT = `ON CONFLICT ("postId", "signalId", "source") DO UPDATE SET
  "modelVersionId" = excluded."modelVersionId", "dim" = excluded."dim", "vector" = excluded."vector",
  "views" = excluded."views", "updatedAt" = excluded."updatedAt"`;

/** The model versions that produced `rows`, once each. */
export const versionsOf = (rows: readonly PostEmbeddingRow[]): number[] => [...new Set(rows.map((r) => r.modelVersionKey!))];
