/**
 * Recording interactions. A batch is checked whole (known post, known signal that applies to the post's media type,
 * label 0 or 1, valid timestamp) before one transaction writes it: unknown users are created, the interaction rows are
 * inserted and the per post and signal statistics are incremented in the same transaction, so counts never disagree
 * with the rows behind them. Any bad element fails the whole batch with its index.
 *
 * Idempotency (memer ingest, at-least-once delivery): an input may carry the producer's `eventId`. Inside the write
 * transaction, ids already stored are skipped (and an id repeated within the batch is written once), so a redelivered
 * or re-published event is stored once and counted once; the unique index on Interaction.eventId turns two concurrent
 * writers of one id into a unique violation, which is retried to the skip.
 *
 * Storage is the interactions store (src/data/interactions.ts: `db.stores.interactions`), one implementation per
 * database chosen when it opens: the transaction, the event-id skip against stored rows, user creation, the rows and
 * their statistics, and the retries of transient failures (a lock, a PostgreSQL deadlock, a unique violation) are
 * its. Durability is the database's commit: a batch is acknowledged only after its transaction committed (SQLite
 * WAL with synchronous=NORMAL survives a killed process; PostgreSQL synchronous_commit).
 */
import type { Config } from '../../config/config.js';
import type { BatchRow, InteractionStore, PostRow } from '../../data/interactions.js';
import { AppError, badInput, quote } from '../../errors.js';
import { validateId } from '../posts/post.validation.js';
import { toSignalRecord } from '../signals/signals.service.js';
import type { SignalRecord } from '../types.js';

export interface InteractionInput {
  userId: string;
  postId: string;
  signal: string;
  /** 1 positive (default), 0 explicit negative. */
  label?: number | null;
  timestamp?: Date | null;
  /** The producer's id of this event: an id already stored is skipped (see above). */
  eventId?: string | null;
}

export interface RecordResult {
  recorded: number;
  usersCreated: number;
  posts: number;
  /** Inputs not written because their eventId was already stored or came earlier in the batch. */
  duplicates: number;
}

export class InteractionsService {
  constructor(
    private readonly store: InteractionStore,
    private readonly config: Config,
  ) {}

  /** Every signal by name (a fresh read: another process may create signals). */
  private async signalMap(): Promise<Map<string, SignalRecord>> {
    return new Map((await this.store.signals()).map((r) => {
      const s = toSignalRecord(r);
      return [s.name, s];
    }));
  }

  private async postMap(ids: string[]): Promise<Map<string, PostRow>> {
    return new Map((await this.store.postsByExternalId(ids)).map((p) => [p.externalId, p]));
  }

  async record(inputs: InteractionInput[], now = new Date()): Promise<RecordResult> {
    if (inputs.length === 0) return { recorded: 0, usersCreated: 0, posts: 0, duplicates: 0 };
    if (inputs.length > this.config.maxBatch) throw badInput(`at most ${this.config.maxBatch} interactions per call, got ${inputs.length}`, { path: 'inputs' });
    const postIds = new Set<string>();
    for (const x of inputs) postIds.add(x.postId);
    const [signals, postById] = await Promise.all([this.signalMap(), this.postMap([...postIds])]);

    // Checked whole, once, before anything is written (the GraphQL layer has already checked the types).
    const batch: BatchRow[] = new Array(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      const at = `inputs[${i}]`;
      checkId('user', x.userId, `${at}.userId`, i);
      if (x.eventId != null) checkId('event', x.eventId, `${at}.eventId`, i);
      const post = postById.get(x.postId);
      if (!post) throw badInput(`${at}.postId: unknown post ${quote(x.postId)}`, { path: `${at}.postId`, index: i });
      const signal = signals.get(x.signal);
      if (!signal) throw badInput(`${at}.signal: unknown signal ${quote(x.signal)} (known: ${[...signals.keys()].join(', ')})`, { path: `${at}.signal`, index: i });
      if (!signal.mediaTypes.includes(post.mediaType)) {
        throw badInput(`${at}.signal: ${signal.name} does not apply to ${post.mediaType} posts`, { path: `${at}.signal`, index: i });
      }
      const label = x.label ?? 1;
      if (label !== 0 && label !== 1) throw badInput(`${at}.label must be 0 or 1, got ${label}`, { path: `${at}.label`, index: i });
      const timestamp = x.timestamp ?? now;
      if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime())) throw badInput(`${at}.timestamp is not a valid date`, { path: `${at}.timestamp`, index: i });
      batch[i] = { userId: x.userId, postKey: post.id, signalKey: signal.key, label, timestamp, eventId: x.eventId ?? null };
    }
    const seen = new Set<string>();
    const rows = batch.filter((r) => {
      if (r.eventId === null) return true;
      if (seen.has(r.eventId)) return false;
      seen.add(r.eventId);
      return true;
    });
    const written = await this.store.writeBatch(rows, now);
    return { ...written, duplicates: inputs.length - written.recorded };
  }
}

/** validateId with the element's index on the error (a bad element names itself, as the other checks do). */
function checkId(kind: string, id: string, path: string, index: number): void {
  try {
    validateId(kind, id, path);
  } catch (err) {
    throw err instanceof AppError ? badInput(`${path}: ${err.message}`, { path, index }) : err;
  }
}
