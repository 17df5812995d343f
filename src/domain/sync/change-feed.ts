/**
 * The change feed between replicas: after a write that other replicas serve from memory (an upload, a model
 * activation, an experiment started or stopped), a replica publishes a notification, and every other replica
 * refreshes at once (Services.refreshAfterChange) instead of at its next poll. The poll (MEMER_REFRESH_MS) stays as
 * the safety net: a notification carries no data, so one that is lost (a connection down, a replica starting) costs
 * only time, and a refresh reads what changed from the database as the poll does.
 * Transports: PostgreSQL LISTEN/NOTIFY (postgres-feed.ts) or Redis pub/sub (redis-feed.ts); createChangeFeed picks.
 * Publishing coalesces: at most one message per GAP_MS per replica, naming every kind since the last, so an upload
 * burst is a few notifications, not one per upload.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/config.js';
import { providerOf } from '../../data/provider.js';
import type { Logger } from '../../lib/logger.js';

export type ChangeKind = 'posts' | 'models' | 'experiments';
const KINDS: ReadonlySet<string> = new Set<ChangeKind>(['posts', 'models', 'experiments']);

/** A notification: who sent it (its own are ignored), what changed, and when (sender's clock, ms). */
export interface ChangeMessage {
  from: string;
  kinds: ChangeKind[];
  at: number;
}

/** What happened to the replica's feed: for the refresh (`kinds`), or 'resync' after a reconnection (anything may have been missed). */
export type OnChange = (kinds: readonly ChangeKind[] | 'resync', message?: ChangeMessage) => void;

const GAP_MS = 10;

export function decode(payload: string | undefined | null): ChangeMessage | null {
  if (!payload || payload.length > 1000) return null;
  try {
    const m = JSON.parse(payload) as Partial<ChangeMessage>;
    if (typeof m.from !== 'string' || !Array.isArray(m.kinds) || typeof m.at !== 'number') return null;
    const kinds = m.kinds.filter((k): k is ChangeKind => typeof k === 'string' && KINDS.has(k));
    return kinds.length ? { from: m.from, kinds, at: m.at } : null;
  } catch {
    return null;
  }
}

export abstract class ChangeFeed {
  /** This replica, in its messages. */
  readonly id = randomUUID();
  /** Counters for metrics and tests. */
  readonly stats = { sent: 0, received: 0, sendFailures: 0, reconnects: 0 };
  protected closed = false;
  private pending = new Set<ChangeKind>();
  private timer: NodeJS.Timeout | null = null;
  private sentAt = Number.NEGATIVE_INFINITY;
  private sending: Promise<void> = Promise.resolve();
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    /** `postgres` or `redis`, for logs and metrics. */
    readonly transport: 'postgres' | 'redis',
    protected readonly logger: Logger,
    private readonly onChange: OnChange,
  ) {}

  /** Whether notifications can be received now. */
  abstract get connected(): boolean;
  /** Starts listening (and keeps reconnecting in the background); resolves once the first attempt is over, either way. */
  abstract start(): Promise<void>;
  protected abstract send(payload: string): Promise<void>;
  protected abstract disconnect(): Promise<void>;

  /** Tell the other replicas that `kind` changed (committed already); coalesced, never throws, never waits. */
  publish(kind: ChangeKind): void {
    if (this.closed) return;
    this.pending.add(kind);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.sentAt + GAP_MS - performance.now()));
  }

  private flush(): void {
    this.timer = null;
    this.sentAt = performance.now();
    const message: ChangeMessage = { from: this.id, kinds: [...this.pending], at: Date.now() };
    this.pending.clear();
    this.sending = this.sending.then(() =>
      this.send(JSON.stringify(message)).then(
        () => void this.stats.sent++,
        (err: unknown) => {
          this.stats.sendFailures++;
          this.warn('cannot publish a change notification; the other replicas pick it up at their next poll', err);
        },
      ),
    );
  }

  /** A transport's incoming payload. */
  protected deliver(payload: string | undefined | null): void {
    const message = decode(payload);
    if (!message || message.from === this.id || this.closed) return;
    this.stats.received++;
    this.onChange(message.kinds, message);
  }

  /** The transport is listening again after a gap: what was published meanwhile was missed. */
  protected resync(): void {
    this.stats.reconnects++;
    if (!this.closed) this.onChange('resync');
  }

  protected warn(what: string, err: unknown): void {
    const now = performance.now();
    if (now - this.warnedAt < 60_000) return;
    this.warnedAt = now;
    this.logger.warn(what, { transport: this.transport, error: err instanceof Error ? err.message : String(err) });
  }

  /** Sends what is pending, then stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.flush();
    }
    this.closed = true;
    await this.sending;
    await this.disconnect();
  }
}

/** Which transport a configuration asks for: MEMER_SYNC, with `auto` = Redis when REDIS_URL is set, else PostgreSQL's own. */
export function syncTransport(config: Pick<Config, 'sync' | 'redisUrl' | 'databaseUrl'>): 'postgres' | 'redis' | null {
  if (config.sync === 'off') return null;
  if (config.sync === 'redis' || (config.sync === 'auto' && config.redisUrl)) return config.redisUrl ? 'redis' : null;
  return providerOf(config.databaseUrl) === 'postgresql' ? 'postgres' : null;
}

/** The configured feed, started (listening, or reconnecting in the background); null when replicas only poll. */
export async function createChangeFeed(config: Pick<Config, 'sync' | 'redisUrl' | 'databaseUrl'>, logger: Logger, onChange: OnChange): Promise<ChangeFeed | null> {
  const transport = syncTransport(config);
  if (!transport) return null;
  const feed =
    transport === 'redis'
      ? new (await import('./redis-feed.js')).RedisChangeFeed(config.redisUrl!, logger, onChange)
      : new (await import('./postgres-feed.js')).PostgresChangeFeed(config.databaseUrl, logger, onChange);
  await feed.start();
  return feed;
}
