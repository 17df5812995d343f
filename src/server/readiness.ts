/**
 * What /readyz answers. Ready means: the start has finished (migrations applied, the models of every active version
 * loaded, the recommendation indexes built, and with --demo the demo platform built), the database answers, and no
 * active model version failed to load. Until then 503 with the reason; GraphQL answers NOT_READY (503) while the
 * start is still running, since it would serve without models or indexes. Once a graceful stop begins (app.ts), 503
 * "shutting down" for good, so load balancers stop sending while the requests in flight finish.
 */
import type { Services } from '../domain/services.js';

export interface ReadyState {
  ready: boolean;
  /** Why not, for people: the first unmet condition. */
  reason: string | null;
}

/** How long a database check is reused: a probe every second per load balancer must not be a query each. */
const DB_CHECK_MS = 1000;
const DB_TIMEOUT_MS = 2000;

export class Readiness {
  /** Start phases not finished yet, by name, with what they are doing. */
  private readonly pending = new Map<string, string>();
  private services: Services | null = null;
  private dbCheck: { at: number; result: Promise<string | null> } | null = null;
  private stopping: string | null = null;

  /** Marks a phase as running (or updates what it is doing). */
  hold(phase: string, reason: string): void {
    this.pending.set(phase, reason);
  }

  release(phase: string): void {
    this.pending.delete(phase);
  }

  /** The first start phase still running, or null once the start is over. */
  get starting(): string | null {
    for (const reason of this.pending.values()) return reason;
    return null;
  }

  /** From here on /readyz answers 503 with `reason` (a graceful stop has begun); there is no way back. */
  stop(reason = 'shutting down'): void {
    this.stopping = reason;
  }

  /** From here on the live checks (database, models) apply. */
  attach(services: Services): void {
    this.services = services;
  }

  async check(now = performance.now()): Promise<ReadyState> {
    if (this.stopping) return { ready: false, reason: this.stopping };
    const starting = this.starting;
    if (starting) return { ready: false, reason: starting };
    const services = this.services;
    if (!services) return { ready: false, reason: 'starting' };
    const failed = failedModels(services);
    if (failed.length) return { ready: false, reason: `active model versions not loaded: ${failed.join(', ')}` };
    if (!this.dbCheck || now - this.dbCheck.at > DB_CHECK_MS) this.dbCheck = { at: now, result: pingDatabase(services) };
    const db = await this.dbCheck.result;
    return db ? { ready: false, reason: db } : { ready: true, reason: null };
  }
}

/**
 * Active MEMER versions the last registry sync saw but could not load (their slot then serves the previous version,
 * or nothing): the snapshot's stamp names every active version it saw, its models the ones loaded.
 */
function failedModels(services: Services): string[] {
  const snap = services.registry.current();
  if (!snap.stamp) return [];
  const loaded = new Set([...snap.memer.values()].map((m) => String(m.versionKey)));
  return snap.stamp.split(',').filter((id) => !loaded.has(id)).map((id) => `#${id}`);
}

async function pingDatabase(services: Services): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${DB_TIMEOUT_MS} ms`)), DB_TIMEOUT_MS);
    });
    await Promise.race([services.db.prisma.$queryRawUnsafe('SELECT 1'), timeout]);
    return null;
  } catch (err) {
    return `database unreachable: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}
