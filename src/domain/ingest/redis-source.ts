/**
 * Redis Streams as an event source: a consumer group (created at the stream's start if missing, MKSTREAM), read with
 * XREADGROUP and acknowledged with XACK. Entries delivered but never acknowledged stay in the group's pending list:
 * at start this consumer first re-reads its own (a restart after a crash), and every CLAIM_EVERY_MS it takes over
 * entries idle for `claimIdleMs` in any consumer (XAUTOCLAIM: a consumer of another name that died).
 */
import { Redis } from 'ioredis';
import { AppError, ErrorCode } from '../../errors.js';
import type { EventSource, SourceMessage } from './source.js';

export interface RedisSourceOptions {
  /** redis://host:port[/db], the connection. */
  url: string;
  key: string;
  group: string;
  consumer: string;
  claimIdleMs: number;
}

const CLAIM_EVERY_MS = 5000;
/** The field of an entry that holds the event's JSON. */
export const EVENT_FIELD = 'data';

type Entry = [id: string, fields: string[] | null];

export class RedisSource implements EventSource {
  readonly name: string;
  /** Own pending entries (from a previous run under this consumer name) are re-read after this id; null: done. */
  private ownPending: string | null = '0';
  private claimCursor = '0-0';
  private lastClaim = 0;

  private constructor(
    private readonly redis: Redis,
    private readonly o: RedisSourceOptions,
  ) {
    this.name = `redis stream ${o.key} (group ${o.group}, consumer ${o.consumer})`;
  }

  static async open(o: RedisSourceOptions): Promise<RedisSource> {
    // No offline queue: a command while Redis is down fails (the run stops, unacknowledged entries are redelivered)
    // rather than waiting in memory.
    const redis = new Redis(o.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    let lastError: Error | undefined;
    redis.on('error', (err: Error) => (lastError = err)); // each failing command reports it; kept for the start's message
    try {
      await redis.connect();
      await redis.xgroup('CREATE', o.key, o.group, '0', 'MKSTREAM').catch((err: Error) => {
        if (!/BUSYGROUP/.test(err.message)) throw err;
      });
    } catch (err) {
      redis.disconnect();
      throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, `cannot read Redis stream ${o.key}: ${(lastError ?? (err as Error)).message}`);
    }
    return new RedisSource(redis, o);
  }

  async read(max: number, waitMs: number): Promise<SourceMessage[]> {
    const { key, group, consumer } = this.o;
    if (this.ownPending !== null) {
      const entries = this.entries(await this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', max, 'STREAMS', key, this.ownPending));
      this.ownPending = entries.length ? entries[entries.length - 1].ref : null;
      if (entries.length) return entries;
    }
    if (this.claimCursor !== '0-0' || Date.now() - this.lastClaim >= CLAIM_EVERY_MS) {
      this.lastClaim = Date.now();
      const [cursor, claimed] = (await this.redis.xautoclaim(key, group, consumer, this.o.claimIdleMs, this.claimCursor, 'COUNT', max)) as [string, Entry[]];
      this.claimCursor = cursor;
      if (claimed.length) return claimed.map((e) => this.message(e));
    }
    const block = Math.floor(waitMs);
    const reply = block > 0
      ? await this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', max, 'BLOCK', block, 'STREAMS', key, '>')
      : await this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', max, 'STREAMS', key, '>');
    return this.entries(reply);
  }

  private entries(reply: unknown): SourceMessage[] {
    const streams = reply as [string, Entry[]][] | null;
    return (streams?.[0]?.[1] ?? []).map((e) => this.message(e));
  }

  private message([id, fields]: Entry): SourceMessage {
    const at = fields ? fields.findIndex((f, i) => i % 2 === 0 && f === EVENT_FIELD) : -1;
    // No "data" field, or a pending entry deleted from the stream (no fields): null, acknowledged as malformed.
    return { data: at >= 0 ? fields![at + 1] : null, ref: id, handle: id };
  }

  async ack(messages: readonly SourceMessage[]): Promise<void> {
    if (messages.length) await this.redis.xack(this.o.key, this.o.group, ...messages.map((m) => m.handle as string));
  }

  async lag(): Promise<number | null> {
    const groups = (await this.redis.xinfo('GROUPS', this.o.key)) as unknown[][];
    for (const g of groups) {
      const f = new Map<string, unknown>();
      for (let i = 0; i < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
      if (f.get('name') !== this.o.group) continue;
      // `lag` (Redis 7): entries not delivered to the group yet; null when Redis cannot tell (after XDEL/XTRIM).
      const lag = f.get('lag');
      return lag === null || lag === undefined ? null : Number(lag) + Number(f.get('pending'));
    }
    return null;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
