/**
 * The interactions aggregate's repository: what InteractionsService (src/domain/interactions) needs of storage, with
 * one implementation per database (sqlite/, postgres/, prisma/ beside this file), chosen once when the database opens
 * (db.ts, `db.stores.interactions`). Types only: the domain imports this file and nothing of the implementations.
 */
import type { MediaType, SignalKind } from '../generated/sqlite/enums.js';

/** A signal as stored (booleans normalised: SQLite's 0/1 arrive as false/true). */
export interface SignalRow {
  id: number;
  name: string;
  kind: SignalKind;
  appliesToVideo: boolean;
  appliesToImage: boolean;
  description: string;
}

/** What a batch's validation needs of a post: its key and media type. */
export interface PostRow {
  id: number;
  externalId: string;
  mediaType: MediaType;
}

/** One checked element of a batch: the user by external id (created if new), the post and signal by key. */
export interface BatchRow {
  userId: string;
  postKey: number;
  signalKey: number;
  /** 1 positive, 0 explicit negative. */
  label: number;
  timestamp: Date;
  /** The producer's event id, or null. Distinct within a batch (the caller dedups). */
  eventId: string | null;
}

/** What writeBatch stored. */
export interface BatchWritten {
  /** Rows inserted (the batch less those whose event id was already stored). */
  recorded: number;
  usersCreated: number;
  /** Distinct (post, signal) statistics rows incremented. */
  posts: number;
}

export interface InteractionStore {
  /** Every signal (a fresh read: another process may create signals). */
  signals(): Promise<SignalRow[]>;
  /** The posts among these external ids (unknown ids are simply absent). */
  postsByExternalId(ids: readonly string[]): Promise<PostRow[]>;
  /**
   * One transaction: skips the rows whose event id is already stored, creates the users it does not know, inserts
   * the rows and increments the per post and signal statistics (so counts never disagree with the rows). Transient
   * failures (a lock, a deadlock, a concurrent writer of the same event id or new user) are retried whole inside;
   * when it resolves, the batch has committed.
   */
  writeBatch(rows: readonly BatchRow[], now: Date): Promise<BatchWritten>;
}
