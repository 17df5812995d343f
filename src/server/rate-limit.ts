/**
 * Token-bucket rate limits: each client (an API key, or the address of a request without a valid key) has a bucket
 * of `burst` tokens refilled at `rate` per second; a request takes one, and with none left it is refused with the
 * time until one is back. With REDIS_URL the buckets live in Redis (one Lua script per request takes the token
 * atomically, on Redis's clock), so replicas share them; otherwise, and while Redis cannot be reached, each process
 * keeps its own.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';

export interface Bucket {
  /** Tokens added per second; 0: no limit. */
  rate: number;
  /** Most tokens held: the burst a quiet client may send at once. */
  burst: number;
}

export interface Decision {
  allowed: boolean;
  /** When refused: ms until a token is back. */
  retryAfterMs: number;
  /** Whole tokens left after this request. */
  remaining: number;
}

export interface RateLimiter {
  take(client: string, bucket: Bucket): Promise<Decision>;
  close(): Promise<void>;
}

const ALLOW: Decision = Object.freeze({ allowed: true, retryAfterMs: 0, remaining: Number.POSITIVE_INFINITY });

/** The refill arithmetic, shared by the local buckets and (in Lua) the Redis script. */
function decide(tokens: number, bucket: Bucket): { tokens: number; decision: Decision } {
  if (tokens >= 1) return { tokens: tokens - 1, decision: { allowed: true, retryAfterMs: 0, remaining: Math.floor(tokens - 1) } };
  return { tokens, decision: { allowed: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / bucket.rate), remaining: 0 } };
}

/** Buckets in this process. Full buckets are dropped on a sweep, so idle clients cost no memory. */
export class LocalRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number; bucket: Bucket }>();
  private takes = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  async take(client: string, bucket: Bucket): Promise<Decision> {
    return this.takeNow(client, bucket);
  }

  takeNow(client: string, bucket: Bucket): Decision {
    if (bucket.rate <= 0) return ALLOW;
    const now = this.now();
    if (++this.takes % 10_000 === 0) this.sweep(now);
    const held = this.buckets.get(client);
    const tokens = held ? refilled(held, now) : bucket.burst;
    const { tokens: left, decision } = decide(tokens, bucket);
    if (held) {
      held.tokens = left;
      held.at = now;
      held.bucket = bucket;
    } else this.buckets.set(client, { tokens: left, at: now, bucket });
    return decision;
  }

  private sweep(now: number): void {
    for (const [client, held] of this.buckets) if (refilled(held, now) >= held.bucket.burst) this.buckets.delete(client);
  }

  /** Buckets held (tests). */
  get size(): number {
    return this.buckets.size;
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}

const refilled = (held: { tokens: number; at: number; bucket: Bucket }, now: number) => Math.min(held.bucket.burst, held.tokens + ((now - held.at) * held.bucket.rate) / 1000);

/**
 * KEYS[1]: the bucket; ARGV: rate per second, burst. Returns {allowed 0/1, retry-after ms, whole tokens left}. Time
 * comes from Redis, so replicas' clocks do not matter; an idle bucket expires once it would be full again.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if held[1] then tokens = math.min(burst, tonumber(held[1]) + math.max(0, now - tonumber(held[2])) * rate / 1000) end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {allowed, wait, math.floor(tokens)}
`;

type TakeCommand = (key: string, rate: number, burst: number) => Promise<[number, number, number]>;

/** Shared buckets in Redis; while Redis fails, the local buckets decide (and one warning a minute says so). */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly fallback = new LocalRateLimiter();
  private warnedAt = Number.NEGATIVE_INFINITY;
  /** Requests decided locally because Redis failed (metrics). */
  fallbacks = 0;

  constructor(
    url: string,
    private readonly logger: Logger,
    private readonly prefix = 'memer:ratelimit:',
  ) {
    // Fail fast rather than queue: a request waits on the limiter, so a Redis outage must not stall it.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 250, lazyConnect: false });
    this.redis.on('error', (err: Error) => this.warn(err));
    this.redis.defineCommand('memerTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  }

  private warn(err: Error): void {
    const now = performance.now();
    if (now - this.warnedAt < 60_000) return;
    this.warnedAt = now;
    this.logger.warn('rate limits: Redis unavailable, buckets are per process meanwhile', { error: err.message });
  }

  /** Resolves once connected (or rejects); the limiter works without waiting for it. */
  ready(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.redis.once('ready', () => resolve());
      this.redis.once('error', reject);
    });
  }

  async take(client: string, bucket: Bucket): Promise<Decision> {
    if (bucket.rate <= 0) return ALLOW;
    try {
      const take = (this.redis as unknown as { memerTake: TakeCommand }).memerTake;
      const [allowed, wait, left] = await take.call(this.redis, this.prefix + client, bucket.rate, bucket.burst);
      return { allowed: allowed === 1, retryAfterMs: Number(wait), remaining: Number(left) };
    } catch (err) {
      this.fallbacks++;
      this.warn(err as Error);
      return this.fallback.takeNow(client, bucket);
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

export function createRateLimiter(redisUrl: string | null, logger: Logger): RateLimiter {
  return redisUrl ? new RedisRateLimiter(redisUrl, logger) : new LocalRateLimiter();
}
