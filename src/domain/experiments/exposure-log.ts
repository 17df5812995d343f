/**
 * The exposure log: what every recommendations response an experiment touched showed, written in batches off the
 * request path. `add` only queues the response's row (no I/O, no await); a timer (every flushMs) or a full batch
 * starts a drain, which writes batchRows rows at a time with a turn of the event loop between batches, one drain at a
 * time. Memory is bounded: past maxImpressions queued impressions a response is dropped, counted per experiment and
 * added to its droppedImpressions (the report shows them), never lost silently. A failed write is retried on the next
 * drain. `close` (Services.close, on graceful shutdown) stops the timer and drains what is queued.
 */
import type { Logger } from '../../lib/logger.js';
import type { ExposureRow } from './experiment.types.js';

export interface ExposureLogOptions {
  /** How often queued rows are written (ms). */
  flushMs: number;
  /** Rows (responses) per write; a queue this long starts a drain at once. */
  batchRows: number;
  /** Most impressions (posts of queued responses) held; beyond it responses are dropped, and counted. */
  maxImpressions: number;
}

export const DEFAULT_EXPOSURE_OPTIONS: ExposureLogOptions = Object.freeze({ flushMs: 1_000, batchRows: 100, maxImpressions: 500_000 });

/** How often `close` retries a failing write before giving up on the rows still queued. */
const CLOSE_ATTEMPTS = 3;

export interface ExposureSink {
  write(rows: readonly ExposureRow[]): Promise<void>;
  /** Adds dropped-impression counts to the experiments' droppedImpressions. */
  dropped(counts: ReadonlyMap<number, number>): Promise<void>;
}

export class ExposureLog {
  /** Queued rows, oldest first, from `head` on (a moving head: shift() copies a long array). */
  private queue: ExposureRow[] = [];
  private head = 0;
  private impressions = 0;
  private drops = new Map<number, number>();
  private draining: Promise<void> | null = null;
  private soon: NodeJS.Immediate | null = null;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Impressions queued, written and dropped since start, and failed writes (metrics, tests). */
  readonly stats = { queued: 0, written: 0, dropped: 0, failures: 0 };

  constructor(
    private readonly sink: ExposureSink,
    private readonly logger: Logger,
    private readonly options: ExposureLogOptions = DEFAULT_EXPOSURE_OPTIONS,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushMs);
    this.timer.unref();
  }

  /** Impressions waiting to be written. */
  get pending(): number {
    return this.impressions;
  }

  /** Queues one response: O(1), no I/O. */
  add(row: ExposureRow): void {
    const n = row.postKeys.length;
    if (n === 0) return;
    if (this.closed || this.impressions + n > this.options.maxImpressions) {
      this.stats.dropped += n;
      this.drops.set(row.experimentKey, (this.drops.get(row.experimentKey) ?? 0) + n);
      if (this.closed) this.logger.warn('exposure log closed: impressions dropped', { impressions: n });
      return;
    }
    this.queue.push(row);
    this.impressions += n;
    this.stats.queued += n;
    if (this.queue.length - this.head >= this.options.batchRows && !this.draining && !this.soon) {
      this.soon = setImmediate(() => {
        this.soon = null;
        void this.flush();
      });
    }
  }

  /** Writes everything queued (single flight: a call during a drain shares it). Never rejects. */
  flush(): Promise<void> {
    this.draining ??= this.drain().finally(() => (this.draining = null));
    return this.draining;
  }

  /** Stops the timer and writes what is queued; later responses are dropped (counted). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    if (this.soon) clearImmediate(this.soon);
    for (let attempt = 0; attempt < CLOSE_ATTEMPTS && (this.impressions > 0 || this.drops.size > 0 || this.draining); attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      await this.flush();
    }
    if (this.impressions > 0) this.logger.error('exposure log: impressions not written at close', { impressions: this.impressions });
  }

  private async drain(): Promise<void> {
    while (this.head < this.queue.length) {
      const batch = this.take(this.options.batchRows);
      const n = batch.reduce((s, r) => s + r.postKeys.length, 0);
      try {
        await this.sink.write(batch);
        this.stats.written += n;
      } catch (err) {
        this.stats.failures++;
        this.putBack(batch, n);
        this.logger.error('exposure log: write failed, retrying on the next flush', { rows: batch.length, error: (err as Error).message });
        return;
      }
      // Requests run between batches: a long queue never holds the event loop for more than one write.
      if (this.head < this.queue.length) await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.drops.size > 0) {
      const counts = this.drops;
      this.drops = new Map();
      try {
        await this.sink.dropped(counts);
      } catch (err) {
        for (const [k, n] of counts) this.drops.set(k, (this.drops.get(k) ?? 0) + n);
        this.logger.error('exposure log: could not record dropped impressions', { error: (err as Error).message });
      }
    }
  }

  /** Up to `rows` rows from the front. */
  private take(rows: number): ExposureRow[] {
    const out = this.queue.slice(this.head, this.head + rows);
    this.head += out.length;
    for (const r of out) this.impressions -= r.postKeys.length;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  private putBack(batch: ExposureRow[], impressions: number): void {
    this.queue = [...batch, ...this.queue.slice(this.head)];
    this.head = 0;
    this.impressions += impressions;
  }
}
