/**
 * Token-bucket rate limits: the buckets themselves (local, and the Lua script on the real Redis at 127.0.0.1:6379,
 * MEMER_TEST_REDIS_URL to change), then live servers: per address and per key, local to a process, and shared by two
 * replicas through Redis; and a Redis that cannot be reached.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { LocalRateLimiter, RedisRateLimiter } from '../../src/server/rate-limit.js';
import { tempDatabase, type TempDatabase } from '../helpers/databases.js';
import { TEST_FEATURES } from '../helpers/harness.js';

const REDIS_URL = process.env.MEMER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const quiet = createLogger('error', () => undefined);

/** Whether something listens at the Redis URL's host and port. */
function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(port || 6379), hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}
const redisUp = await reachable(REDIS_URL);
const skipRedis = redisUp ? false : `no Redis at ${REDIS_URL}`;

test('local buckets: burst, then one request per 1/rate, refilled over time; full buckets are swept', async () => {
  let now = 0;
  const limiter = new LocalRateLimiter(() => now);
  const bucket = { rate: 10, burst: 3 };
  for (let i = 0; i < 3; i++) assert.equal((await limiter.take('a', bucket)).allowed, true);
  const refused = await limiter.take('a', bucket);
  assert.deepEqual(refused, { allowed: false, retryAfterMs: 100, remaining: 0 });
  // Another client has its own bucket; a rate of 0 is no limit.
  assert.equal((await limiter.take('b', bucket)).allowed, true);
  assert.equal((await limiter.take('a', { rate: 0, burst: 0 })).allowed, true);
  now = 60;
  assert.deepEqual(await limiter.take('a', bucket), { allowed: false, retryAfterMs: 40, remaining: 0 });
  now = 100;
  assert.equal((await limiter.take('a', bucket)).allowed, true);
  assert.equal((await limiter.take('a', bucket)).allowed, false);
  // Ten seconds later both buckets are full again; the 10,000th take sweeps them.
  now = 10_100;
  for (let i = 0; i < 10_000 - 8; i++) await limiter.take(`c${i % 2}`, { rate: 1e6, burst: 1e6 });
  assert.ok(limiter.size <= 2, `swept to ${limiter.size}`);
});

describe('Redis buckets', { skip: skipRedis }, () => {
  let limiter: RedisRateLimiter;
  let redis: Redis;
  before(async () => {
    limiter = new RedisRateLimiter(REDIS_URL, quiet);
    await limiter.ready();
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    await limiter.close();
    redis.disconnect();
  });

  test('the script takes tokens atomically under concurrency, says when to retry, and the bucket expires', async () => {
    const client = `test:${randomUUID()}`;
    const bucket = { rate: 2, burst: 5 };
    const decisions = await Promise.all(Array.from({ length: 8 }, () => limiter.take(client, bucket)));
    assert.equal(decisions.filter((d) => d.allowed).length, 5);
    const refused = decisions.filter((d) => !d.allowed);
    assert.equal(refused.length, 3);
    for (const d of refused) assert.ok(d.retryAfterMs > 400 && d.retryAfterMs <= 500, `retry after ${d.retryAfterMs} ms`);
    const ttl = await redis.pttl(`memer:ratelimit:${client}`);
    assert.ok(ttl > 2000 && ttl <= 3600, `expires in ${ttl} ms (refilled in 2.5 s)`);
    await new Promise((r) => setTimeout(r, refused[0].retryAfterMs + 20));
    assert.equal((await limiter.take(client, bucket)).allowed, true);
    assert.equal((await limiter.take(client, bucket)).allowed, false);
    await redis.del(`memer:ratelimit:${client}`);
  });
});

describe('rate limits of a live server', () => {
  let db: TempDatabase;
  const apps: RunningApp[] = [];
  const start = async (overrides: Partial<Config>) => {
    // trustProxy: each test takes a fresh address (X-Forwarded-For), so runs sharing the machine's Redis never meet.
    const app = await startApp(loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES, trustProxy: true, ...overrides }), quiet);
    apps.push(app);
    return app;
  };
  const ask = async (app: RunningApp, address: string, key?: string) => {
    const res = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.1, ${address}`, ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query: '{ signals { name } }' }),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] } };
  };
  const statuses = async (n: number, app: RunningApp | RunningApp[], address: string, key?: string) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await ask(Array.isArray(app) ? app[i % app.length] : app, address, key)).status);
    return out;
  };

  before(async () => (db = await tempDatabase('sqlite')));
  after(async () => {
    for (const app of apps) await app.stop();
    await db.drop();
  });

  test('anonymous requests share their address\'s bucket; a key has its own; RATE_LIMITED carries retry-after', async () => {
    const app = await start({ ratePerAddress: 1, burstPerAddress: 3, ratePerKey: 1, burstPerKey: 2 });
    const address = `192.0.2.${Math.floor(Math.random() * 250)}-${randomUUID()}`;
    assert.deepEqual(await statuses(3, app, address), [200, 200, 200]);
    const refused = await ask(app, address);
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfter, '1');
    assert.equal(refused.body.errors?.[0].extensions.code, 'RATE_LIMITED');
    assert.equal(refused.body.errors?.[0].extensions.retryAfter, 1);
    const ms = refused.body.errors?.[0].extensions.retryAfterMs as number;
    assert.ok(ms > 0 && ms <= 1000, `retry after ${ms} ms`);
    // The same address with a valid key: the key's bucket.
    const { key } = await app.services.keys.create(['read']);
    assert.deepEqual(await statuses(3, app, address, key), [200, 200, 429]);
    // Another address is not affected.
    assert.equal((await ask(app, `other-${randomUUID()}`)).status, 200);
    await new Promise((r) => setTimeout(r, ms + 20));
    assert.equal((await ask(app, address)).status, 200);
    const metrics = await (await fetch(app.url.replace('/graphql', '/metrics'))).text();
    assert.match(metrics, /memer_rate_limited_total\{client="address"\} 1/);
    assert.match(metrics, /memer_rate_limited_total\{client="key"\} 1/);
  });

  test('without Redis each replica has its own buckets; with REDIS_URL the replicas share them', { skip: skipRedis }, async () => {
    // 1 per second refills too little to matter over these few requests.
    const limits = { ratePerAddress: 1, burstPerAddress: 4 };
    const local = [await start(limits), await start(limits)];
    const address = `local-${randomUUID()}`;
    // 4 each: 8 accepted over the two before either refuses.
    assert.deepEqual(await statuses(10, local, address), [200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    const shared = [await start({ ...limits, redisUrl: REDIS_URL }), await start({ ...limits, redisUrl: REDIS_URL })];
    const sharedAddress = `shared-${randomUUID()}`;
    assert.deepEqual(await statuses(6, shared, sharedAddress), [200, 200, 200, 200, 429, 429]);
  });

  test('a Redis that cannot be reached: the service keeps serving, the local buckets decide, the fallback is counted', async () => {
    const app = await start({ ratePerAddress: 1, burstPerAddress: 2, redisUrl: 'redis://127.0.0.1:1' });
    const address = `down-${randomUUID()}`;
    assert.deepEqual(await statuses(3, app, address), [200, 200, 429]);
    const metrics = await (await fetch(app.url.replace('/graphql', '/metrics'))).text();
    assert.match(metrics, /memer_rate_limit_fallbacks_total 3/);
  });
});
