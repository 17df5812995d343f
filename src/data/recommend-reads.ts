/**
 * The recommendation reads' repository: what the recommendation index (src/domain/recommend/post-index.ts: the refresh
 * window's reads, every refresh, on the event loop) and RecommendationsService (the user and the result posts, every
 * request) need of storage, with one implementation per database (sqlite/, postgres/, prisma/ beside this file),
 * chosen once when the database opens (db.ts, `db.stores.recommendations`). Types only: the domain imports this file
 * and nothing of the implementations.
 *
 * The window's counts come grouped by stamp, so a refresh under upload load reads a few hundred small groups instead
 * of every row of the look-back window (tens of thousands of rows, 15-40 ms of event loop every refresh at 1,000
 * uploads/s).
 */
import type { MediaType } from '../generated/sqlite/enums.js';

/** Rows that carry one stamp: `raw` is the stamp as the database returned it, to ask for exactly those rows. */
export interface StampCount {
  at: number;
  n: number;
  raw: string | Date;
}

/** A row of the refresh window: a post key and the row's time stamp in ms. */
export interface StampedRow {
  key: number;
  at: number;
}

/** What a request needs of its user: recent interactions (post keys, newest first) and the signal's embedding. */
export interface UserContextRow {
  recent: number[];
  /** float32 little-endian bytes; null when the user has none for the signal. */
  vector: Uint8Array | null;
}

/** A post with its tags, as stored (tags unsorted). */
export interface PostTagsRow {
  id: number;
  externalId: string;
  mediaType: MediaType;
  text: string;
  createdAt: Date;
  registeredAt: Date;
  tags: { tag: string }[];
}

export interface RecommendationReads {
  /** Posts registered after `since`, counted per registeredAt (index-only on Post(registeredAt)). */
  postCounts(since: Date): Promise<StampCount[]>;
  /**
   * The signal's vectors written after `since`, counted per updatedAt (index-only on PostEmbedding(signalId, source,
   * updatedAt), one range per source; only MATURE and MEMER rows are ever stored, the filter lets the index serve).
   */
  vectorCounts(signalKey: number, since: Date): Promise<StampCount[]>;
  /** Posts registered after `since` (a build reads its look-back window whole, once). */
  postsSince(since: Date): Promise<StampedRow[]>;
  /** The signal's MATURE and MEMER vectors written after `since`. */
  vectorsSince(signalKey: number, since: Date): Promise<StampedRow[]>;
  /** The posts registered at exactly these stamps (from postCounts). */
  postsAt(stamps: readonly StampCount[]): Promise<StampedRow[]>;
  /** The signal's MATURE and MEMER vectors written at exactly these stamps (from vectorCounts). */
  vectorsAt(signalKey: number, stamps: readonly StampCount[]): Promise<StampedRow[]>;
  /** The user by external id, with their latest `recentLimit` interactions and the signal's embedding; null if unknown. */
  userContext(externalId: string, signalKey: number, recentLimit: number): Promise<UserContextRow | null>;
  /** The posts with these internal keys (unknown keys are simply absent), in no particular order. */
  postsByKey(keys: readonly number[]): Promise<PostTagsRow[]>;
}
