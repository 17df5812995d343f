/**
 * Apollo's automatic persisted queries (APQ) are on: a client sends a document's sha256 alone, and the document once
 * when the server answers PERSISTED_QUERY_NOT_FOUND. Apollo keeps them in its in-memory cache, one per process, so
 * behind a load balancer a hash registered on one replica is unknown to the next and costs the client a retry; with
 * REDIS_URL they live in Redis instead (`memer:apq:<sha256>`, expiring a day after their last registration), shared
 * by the replicas. Redis failing costs only that retry: a read that fails is a miss, a write that fails is dropped.
 */
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';

const DAY_S = 86_400;
/** Apollo's key is its prefix and the client's hash: anything longer is not a sha256 (and must not become a Redis key). */
const MAX_KEY = 128;

export class RedisApqCache implements KeyValueCache<string> {
  private readonly redis: Redis;
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    url: string,
    private readonly logger: Logger,
    private readonly prefix = 'memer:apq:',
  ) {
    // Fail fast, as the rate limiter: a request waits on this read.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250 });
    this.redis.on('error', (err: Error) => this.warn(err));
  }

  private warn(err: Error): void {
    const now = performance.now();
    if (now - this.warnedAt < 60_000) return;
    this.warnedAt = now;
    this.logger.warn('persisted queries: Redis unavailable, clients resend their documents meanwhile', { error: err.message });
  }

  async get(key: string): Promise<string | undefined> {
    if (key.length > MAX_KEY) return undefined;
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch (err) {
      this.warn(err as Error);
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    if (key.length > MAX_KEY) return;
    try {
      await this.redis.set(this.prefix + key, value, 'EX', options?.ttl ? Math.ceil(options.ttl) : DAY_S);
    } catch (err) {
      this.warn(err as Error);
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return (await this.redis.del(this.prefix + key)) > 0;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
