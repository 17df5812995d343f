/**
 * Micro-batching: many small requests (typically one post each) that arrive close together share one `session.run`.
 *
 * Policy: a request is queued; the queue is flushed on the next event-loop turn (or after `windowMs` when > 0), at
 * once when it holds `maxBatch` rows, and, while a run is in flight, everything that arrives meanwhile goes into the
 * next run as soon as the current one finishes. Under no load a request therefore waits for no timer; under load the
 * batch size grows with the arrival rate.
 * Every input's first dim must be the batch dim; rows are concatenated along it and the outputs split back.
 */
import { observed, reportBatch } from './observer.js';
import { ModelInputError, type Feed, type Session } from './session.js';

export interface BatcherOptions {
  /** wait this long for more requests before a run (0: only those arriving in the same event-loop turn or during a run) */
  readonly windowMs: number;
  /** most rows in one run */
  readonly maxBatch: number;
  /** outputs to compute (default: all of the session's) */
  readonly outputs?: readonly string[];
}

export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = Object.freeze({ windowMs: 0, maxBatch: 1024 });

interface Pending {
  rows: number;
  inputs: Readonly<Record<string, Float32Array>>;
  /** performance.now() at submit, when an observer listens (observer.ts); else -1 */
  queuedAt: number;
  resolve: (out: Record<string, Float32Array>) => void;
  reject: (e: Error) => void;
}

export class MicroBatcher {
  readonly options: BatcherOptions;
  /** Counters for tests and monitoring. */
  readonly stats = { runs: 0, rows: 0, requests: 0 };
  private readonly widths = new Map<string, number>();
  private readonly outWidths = new Map<string, number>();
  private queue: Pending[] = [];
  private queuedRows = 0;
  private scheduled = false;
  private running = false;

  constructor(
    private readonly session: Session,
    options: Partial<BatcherOptions> = {},
  ) {
    this.options = Object.freeze({ ...DEFAULT_BATCHER_OPTIONS, ...options });
    const width = (name: string, shape: (number | string)[]) => {
      if (typeof shape[0] === 'number' || shape.slice(1).some((d) => typeof d !== 'number')) {
        throw new Error(`${session.label}: "${name}" [${shape.join(', ')}] needs a symbolic batch dim and static other dims to be micro-batched`);
      }
      return (shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    };
    for (const s of session.inputs) this.widths.set(s.name, width(s.name, s.shape));
    const outs = this.options.outputs ?? session.outputNames;
    for (const s of session.outputs) if (outs.includes(s.name)) this.outWidths.set(s.name, width(s.name, s.shape));
  }

  /** Queue `rows` rows (each input holds rows x its row width values); resolves with this request's output rows. */
  submit(inputs: Readonly<Record<string, Float32Array>>, rows = 1): Promise<Record<string, Float32Array>> {
    for (const [name, w] of this.widths) {
      const d = inputs[name];
      if (!d) throw new ModelInputError(`${this.session.label}: missing input "${name}" (row width ${w})`, 'MISSING_INPUT');
      if (d.length !== rows * w) {
        throw new ModelInputError(`${this.session.label}: input "${name}" has ${d.length} values, expected ${rows} x ${w}`, 'BAD_SHAPE');
      }
    }
    for (const k of Object.keys(inputs)) {
      if (!this.widths.has(k)) throw new ModelInputError(`${this.session.label}: unknown input "${k}"`, 'UNKNOWN_INPUT');
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, inputs, queuedAt: observed() ? performance.now() : -1, resolve, reject });
      this.queuedRows += rows;
      this.stats.requests++;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return; // drained when the current run ends
    if (this.queuedRows >= this.options.maxBatch) {
      void this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    if (this.options.windowMs > 0) setTimeout(go, this.options.windowMs);
    else setImmediate(go);
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length && (batch.length === 0 || rows + this.queue[0].rows <= this.options.maxBatch)) {
      const p = this.queue.shift()!;
      rows += p.rows;
      batch.push(p);
    }
    this.queuedRows -= rows;
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.take();
    const total = batch.reduce((s, p) => s + p.rows, 0);
    if (observed()) {
      const now = performance.now();
      reportBatch({ session: this.session, rows: total, waits: batch.map((p) => (p.queuedAt >= 0 ? (now - p.queuedAt) / 1000 : 0)) });
    }
    try {
      const feeds: Record<string, Feed> = {};
      for (const [name, w] of this.widths) {
        let data: Float32Array;
        if (batch.length === 1) data = batch[0].inputs[name];
        else {
          data = new Float32Array(total * w);
          let o = 0;
          for (const p of batch) {
            data.set(p.inputs[name], o);
            o += p.rows * w;
          }
        }
        feeds[name] = { data, dims: [total, ...this.dimsAfterBatch(name)] };
      }
      const out = await this.session.runUnchecked(feeds, [...this.outWidths.keys()]);
      this.stats.runs++;
      this.stats.rows += total;
      let r = 0;
      for (const p of batch) {
        const mine: Record<string, Float32Array> = {};
        for (const [name, w] of this.outWidths) mine[name] = out[name].data.subarray(r * w, (r + p.rows) * w);
        r += p.rows;
        p.resolve(mine);
      }
    } catch (e) {
      for (const p of batch) p.reject(e as Error);
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
    }
  }

  private dimsAfterBatch(name: string): number[] {
    return this.session.inputs.find((s) => s.name === name)!.shape.slice(1) as number[];
  }
}
