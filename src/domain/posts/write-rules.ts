/** What both registration write paths (posts.service.ts on Prisma, posts.direct.ts on SQLite) share. */
import { conflict } from '../../errors.js';
import type { PostRecord } from '../types.js';
import type { NormalizedPost } from './post.validation.js';

/** What a write did: every post's record by external id, and the ids it created. */
export interface Written {
  records: Map<string, PostRecord>;
  created: Set<string>;
  /** The transaction's time stamp (registeredAt of the created posts): taken once the write lock is held. */
  at: Date;
}

/** CONFLICT for a post stored under the same id with a different payload (`stored`: payload hash by id). */
export function checkStored(stored: Map<string, string>, posts: readonly NormalizedPost[]): void {
  for (const p of posts) {
    if (stored.has(p.externalId) && stored.get(p.externalId) !== p.payloadHash) throw conflict(`post ${p.externalId} is already registered with a different payload`, { id: p.externalId });
  }
}
