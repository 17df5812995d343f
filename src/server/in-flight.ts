/**
 * The HTTP requests a server is handling, so a graceful stop can wait for them: a request's handler runs until its
 * response is written, which for an upload includes its group commit (uploads.service.ts), so once nothing is in
 * flight nothing this process acknowledged or is about to acknowledge is still being written.
 */
export class InFlight<T> {
  /** What each request in flight is tracked with (its response, so a stop can still change its headers). */
  readonly items = new Set<T>();
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.items.size;
  }

  /** Counts `work` until it settles (either way). */
  track<R>(item: T, work: Promise<R>): Promise<R> {
    this.items.add(item);
    return work.finally(() => {
      this.items.delete(item);
      if (this.items.size === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** True once nothing is in flight, false if something still is after `timeoutMs`. */
  settled(timeoutMs: number): Promise<boolean> {
    if (this.items.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(this.items.size === 0);
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }
}
