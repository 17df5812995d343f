/** What both database paths for posts (posts.service.ts on Prisma, posts.direct.ts on SQLite) share. */
import { conflict } from '../../errors.js';
import type { MediaType, PostRecord } from '../types.js';
import type { NormalizedPost } from './post.validation.js';

type PostRow = { id: number; externalId: string; mediaType: MediaType; text: string; createdAt: Date; registeredAt: Date; tags: { tag: string }[] };

/** A stored post as the domain sees it (tags sorted). */
export function toPostRecord(row: PostRow): PostRecord {
  return {
    key: row.id,
    id: row.externalId,
    mediaType: row.mediaType,
    tags: row.tags.map((t) => t.tag).sort(),
    text: row.text,
    createdAt: row.createdAt,
    registeredAt: row.registeredAt,
  };
}

/** The record of a post just inserted under `key` at `at` (built from what was written: no read back). */
export function freshRecord(p: NormalizedPost, key: number, at: Date): PostRecord {
  return { key, id: p.externalId, mediaType: p.mediaType, tags: p.tags, text: p.text, createdAt: p.createdAt, registeredAt: at };
}

/** What a write did: every post's record by external id, and the ids it created. */
export interface Written {
  records: Map<string, PostRecord>;
  created: Set<string>;
  /** The transaction's time stamp (registeredAt of the created posts): taken once the write lock is held. */
  at: Date;
}

/** The registrations of a batch by id, once each; CONFLICT when one id comes twice with different payloads. */
export function uniqueById(posts: readonly NormalizedPost[]): NormalizedPost[] {
  const unique = new Map<string, NormalizedPost>();
  for (const p of posts) {
    const seen = unique.get(p.externalId);
    if (seen && seen.payloadHash !== p.payloadHash) throw conflict(`post ${p.externalId} appears twice in the batch with different payloads`, { id: p.externalId });
    unique.set(p.externalId, p);
  }
  return [...unique.values()];
}

/** CONFLICT for a post stored under the same id with a different payload (`stored`: payload hash by id). */
export function checkStored(stored: Map<string, string>, posts: readonly NormalizedPost[]): void {
  for (const p of posts) {
    if (stored.has(p.externalId) && stored.get(p.externalId) !== p.payloadHash) throw conflict(`post ${p.externalId} is already registered with a different payload`, { id: p.externalId });
  }
}
