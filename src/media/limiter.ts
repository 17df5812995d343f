/**
 * How many decodes run at once. A decode is CPU-bound in a child process or libvips' threads, so more at once than
 * cores only adds memory and latency; callers share one limiter per process (or make their own).
 */
import { availableParallelism } from 'node:os';

export class DecodeLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly concurrency: number = availableParallelism()) {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError(`decode concurrency must be a positive integer, got ${concurrency}`);
  }

  /** Decodes running now. */
  get active(): number {
    return this.running;
  }

  /** Decodes waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a slot is free; the slot is released however `fn` settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((wake) => this.waiting.push(wake));
    else this.running++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** The process-wide default: one decode per core. */
export const defaultDecodeLimiter = new DecodeLimiter();
