/**
 * The signal catalogue and the maturity thresholds: read by nearly every request (every upload's servingSources asks
 * for both) but written only by migrations, imports and activations. They are cached process-wide and re-read at
 * most every `ttlMs` (the server's refresh interval: the staleness replicas already accept for uploads and
 * activations made elsewhere); writes made by this process call `invalidate`.
 */
import type { Prisma } from '../data/db.js';
import { toSignalRecord } from './signals/signals.service.js';
import type { SignalRecord } from './types.js';

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

export class Catalog {
  private signalEntry: Entry<Map<string, SignalRecord>> | null = null;
  private thresholdEntry: Entry<Map<string, number>> | null = null;

  constructor(
    private readonly prisma: Prisma,
    private readonly ttlMs: number,
  ) {}

  /** Signals by name, in id order. */
  signals(): Promise<Map<string, SignalRecord>> {
    this.signalEntry = this.fresh(this.signalEntry, () =>
      this.prisma.signal.findMany({ orderBy: { id: 'asc' } }).then((rows) => new Map(rows.map((r) => [r.name, toSignalRecord(r)]))),
    );
    return this.signalEntry.value;
  }

  /** Maturity thresholds M by `${signalKey}:${mediaType}`. */
  thresholds(): Promise<Map<string, number>> {
    this.thresholdEntry = this.fresh(this.thresholdEntry, () =>
      this.prisma.maturityThreshold
        .findMany({ select: { signalId: true, mediaType: true, threshold: true } })
        .then((rows) => new Map(rows.map((r) => [`${r.signalId}:${r.mediaType}`, r.threshold]))),
    );
    return this.thresholdEntry.value;
  }

  invalidate(): void {
    this.signalEntry = null;
    this.thresholdEntry = null;
  }

  private fresh<T>(entry: Entry<T> | null, read: () => Promise<T>): Entry<T> {
    const now = Date.now();
    if (entry && now - entry.at < this.ttlMs) return entry;
    const next: Entry<T> = { at: now, value: read() };
    // A failed read is not cached: the next call tries again.
    next.value.catch(() => {
      if (next === this.signalEntry) this.signalEntry = null;
      if (next === this.thresholdEntry) this.thresholdEntry = null;
    });
    return next;
  }
}
