/**
 * memer ingest against the real NATS JetStream (127.0.0.1:4222) and Redis (127.0.0.1:6379), into a temporary SQLite
 * database: events become rows exactly once, redeliveries (a consumer that dies after its commit and before its ack,
 * a SIGKILL at a random moment, a re-published id) write nothing more, malformed events are acknowledged without
 * blocking the rest, SIGTERM exits 0 with its batch acknowledged. Each test has its own stream, removed after it. The
 * idempotent write itself is also checked on PostgreSQL, with two writers of the same ids at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { ingest } from '../../src/domain/ingest/ingest.service.js';
import { NatsSource } from '../../src/domain/ingest/nats-source.js';
import { RedisSource } from '../../src/domain/ingest/redis-source.js';
import type { EventSource } from '../../src/domain/ingest/source.js';
import { createLogger } from '../../src/lib/logger.js';
import { cli } from '../helpers/cli.js';
import { harness, type Harness } from '../helpers/harness.js';

const NATS = '127.0.0.1:4222';
const REDIS = 'redis://127.0.0.1:6379';
const bin = new URL('../../bin/memer.js', import.meta.url).pathname;
const quiet = createLogger('error', () => undefined);

const event = (id: string, userId = `u-${id}`, postId = 'v1', signal = 'click') => JSON.stringify({ id, userId, postId, signal, timestamp: '2026-12-01T10:00:00Z' });
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

interface Summary {
  received: number;
  recorded: number;
  duplicates: number;
  malformed: number;
  batches: number;
  lag: number | null;
}

async function run(from: string, ...flags: string[]): Promise<Summary> {
  const r = await cli('ingest', '--from', from, '--idle-exit', '300', '--linger-ms', '10', '--json', ...flags);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Summary;
}

/** Every stored event id once, and the counts agreeing with the rows. */
async function assertExactlyOnce(h: Harness, expected: string[]): Promise<void> {
  const rows = await h.services.db.prisma.interaction.findMany({ where: { eventId: { in: expected } }, select: { eventId: true } });
  assert.equal(rows.length, expected.length, 'each event stored once');
  assert.deepEqual(new Set(rows.map((r) => r.eventId)), new Set(expected));
  const stats = await h.services.db.prisma.postSignalStat.aggregate({ _sum: { total: true } });
  assert.equal(stats._sum.total, await h.services.db.prisma.interaction.count(), 'PostSignalStat totals match the rows');
}

/** A crash between the commit and the ack: the batch is written, then the consumer dies. */
async function crashAfterCommit(h: Harness, source: EventSource): Promise<void> {
  const stop = new AbortController();
  await assert.rejects(
    ingest(source, async (inputs) => {
      await h.services.uploads.record(inputs);
      throw new Error('killed before the ack');
    }, { batch: 1000, lingerMs: 20, progressMs: 60_000, signal: stop.signal, logger: quiet }),
    /killed before the ack/,
  );
  await source.close();
}

describe('memer ingest on sqlite', () => {
  let h: Harness;
  before(async () => {
    h = await harness('sqlite');
    await h.ok(`mutation { registerPosts(inputs: [{id: "v1", mediaType: VIDEO}, {id: "v2", mediaType: VIDEO}, {id: "i1", mediaType: IMAGE}]) { id } }`);
    process.env.DATABASE_URL = h.services.config.databaseUrl;
    process.env.LOG_LEVEL = 'error'; // the in-process runs' warnings about the malformed events
  });
  after(() => h.close());

  describe('from NATS JetStream', () => {
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    const streams: string[] = [];
    before(async () => {
      nc = await connect({ servers: NATS });
      jsm = await jetstreamManager(nc);
    });
    after(async () => {
      for (const s of streams) await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
    });
    const stream = async (ackWaitMs?: number) => {
      const name = `memer_test_${randomUUID().slice(0, 8)}`;
      streams.push(name);
      await jsm.streams.add({ name, subjects: [`${name}.>`] });
      // ack_wait set by the test: a redelivery after a crash comes after it.
      if (ackWaitMs) await jsm.consumers.add(name, { durable_name: 'memer-ingest', ack_policy: 'explicit', ack_wait: ackWaitMs * 1e6 });
      const publish = async (...payloads: string[]) => {
        for (const p of payloads) await jetstream(nc).publish(`${name}.events`, p);
      };
      return { name, from: `nats://${NATS}/${name}`, publish };
    };

    test('events become rows once; malformed ones are acknowledged without blocking; a re-published id is skipped', async () => {
      const s = await stream();
      const good = ids(s.name, 30);
      await s.publish(...good.slice(0, 10).map((id) => event(id)));
      await s.publish('{not json', JSON.stringify({ userId: 'x', postId: 'v1', signal: 'click' }), event(`${s.name}-unknown-post`, 'x', 'nope'), event(`${s.name}-image-skip`, 'x', 'i1', 'skip'));
      await s.publish(...good.slice(10).map((id) => event(id)), event(good[0]));
      const first = await run(s.from);
      const { received, recorded, duplicates, malformed, lag } = first;
      assert.deepEqual({ received, recorded, duplicates, malformed, lag }, { received: 35, recorded: 30, duplicates: 1, malformed: 4, lag: 0 });
      await assertExactlyOnce(h, good);
      // Re-published events (a producer's retry) and two new ones.
      const more = ids(`${s.name}-more`, 2);
      await s.publish(...good.slice(0, 5).map((id) => event(id)), ...more.map((id) => event(id)));
      const second = await run(s.from);
      assert.equal(second.recorded, 2);
      assert.equal(second.duplicates, 5);
      assert.equal(second.lag, 0);
      await assertExactlyOnce(h, [...good, ...more]);
    });

    test('a consumer killed after its commit and before its ack: the redelivery writes nothing more', async () => {
      const s = await stream(1000);
      const good = ids(s.name, 40);
      await s.publish(...good.map((id) => event(id)));
      await crashAfterCommit(h, await NatsSource.open({ server: NATS, stream: s.name, durable: 'memer-ingest' }));
      await assertExactlyOnce(h, good);
      await new Promise((r) => setTimeout(r, 1100)); // ack_wait
      const again = await run(s.from);
      assert.equal(again.recorded, 0);
      assert.equal(again.duplicates, 40);
      assert.equal(again.lag, 0);
      await assertExactlyOnce(h, good);
    });

    test('an unknown stream exits 4; a bad URL exits 2', async () => {
      const r = await cli('ingest', '--from', `nats://${NATS}/memer_test_missing_${randomUUID().slice(0, 8)}`);
      assert.equal(r.code, 4, r.err);
      assert.match(r.err, /stream .* not found/);
      assert.equal((await cli('ingest', '--from', 'kafka://x/y')).code, 2);
      assert.equal((await cli('ingest')).code, 2);
      assert.equal((await cli('ingest', '--from', `nats://${NATS}/s`, '--batch', '100000')).code, 2);
    });
  });

  describe('from Redis Streams', () => {
    let redis: Redis;
    const keys: string[] = [];
    before(() => void (redis = new Redis(REDIS)));
    after(async () => {
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
    const stream = () => {
      const key = `memer:test:ingest:${randomUUID().slice(0, 8)}`;
      keys.push(key);
      const publish = async (...payloads: string[]) => {
        const p = redis.pipeline();
        for (const d of payloads) p.xadd(key, '*', 'data', d);
        await p.exec();
      };
      return { key, from: `redis://127.0.0.1:6379/${encodeURIComponent(key)}`, publish };
    };

    test('events become rows once, malformed ones do not block, and a crash after the commit is not written twice', async () => {
      const s = stream();
      const good = ids(s.key, 25);
      await s.publish(...good.slice(0, 20).map((id) => event(id)), 'null', event(`${s.key}-bad-label`, 'x').replace('"click"', '"click","label":7'));
      await redis.xadd(s.key, '*', 'other', 'no data field');
      await crashAfterCommit(h, await RedisSource.open({ url: REDIS, key: s.key, group: 'memer-ingest', consumer: 'memer-ingest', claimIdleMs: 60_000 }));
      await assertExactlyOnce(h, good.slice(0, 20));
      await s.publish(...good.slice(20).map((id) => event(id)));
      // The same consumer name re-reads its pending entries first.
      const r = await run(s.from);
      assert.equal(r.received, 28);
      assert.equal(r.recorded, 5);
      assert.equal(r.duplicates, 20);
      assert.equal(r.malformed, 3);
      assert.equal(r.lag, 0);
      await assertExactlyOnce(h, good);
    });

    test('SIGKILL at a random moment, then SIGTERM: exit 0, and every event stored exactly once', { timeout: 120_000 }, async () => {
      const s = stream();
      const good = ids(s.key, 600);
      const env = { ...process.env, DATABASE_URL: h.services.config.databaseUrl, LOG_LEVEL: 'error' };
      const start = () => spawn(process.execPath, [bin, 'ingest', '--from', s.from, '--batch', '25', '--linger-ms', '5', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = (child: ReturnType<typeof start>) => new Promise<{ code: number | null; out: string }>((resolve) => {
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        child.on('exit', (code) => resolve({ code, out }));
      });
      const stored = () => h.services.db.prisma.interaction.count({ where: { eventId: { startsWith: s.key } } });
      const until = async (cond: () => Promise<boolean>) => {
        for (let i = 0; i < 600 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 25));
      };
      // A stream of events, with a producer's retry of an earlier id now and then.
      const producing = (async () => {
        for (let i = 0; i < good.length; i += 20) {
          await s.publish(...good.slice(i, i + 20).map((id) => event(id)), event(good[Math.floor(i / 2)]));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const killed = start();
      const gone = exited(killed);
      const target = 100 + Math.floor(Math.random() * 200);
      await until(async () => (await stored()) >= target);
      killed.kill('SIGKILL');
      assert.equal((await gone).code, null);
      await producing;
      const second = start();
      const done = exited(second);
      await until(async () => (await stored()) >= good.length);
      second.kill('SIGTERM');
      const { code, out } = await done;
      assert.equal(code, 0, `target ${target}`);
      const summary = JSON.parse(out) as Summary;
      assert.equal(summary.lag, 0, 'everything read was acknowledged');
      await assertExactlyOnce(h, good);
      const rest = await run(s.from);
      assert.equal(rest.recorded, 0);
    });
  });
});

describe('idempotent recordInteractions path on postgresql', () => {
  let h: Harness;
  before(async () => {
    h = await harness('postgresql');
    await h.ok(`mutation { registerPosts(inputs: [{id: "v1", mediaType: VIDEO}]) { id } }`);
  });
  after(() => h.close());

  test('an event id already stored, repeated in a batch, or written by two writers at once is stored once', async () => {
    const inputs = ids('pg', 50).map((eventId, i) => ({ eventId, userId: `u${i % 7}`, postId: 'v1', signal: 'click' }));
    const [a, b] = await Promise.all([h.services.uploads.record(inputs), h.services.uploads.record(inputs)]);
    assert.equal(a.recorded + b.recorded, 50);
    assert.equal(a.duplicates + b.duplicates, 50);
    const again = await h.services.uploads.record([...inputs.slice(0, 3), inputs[0], { eventId: 'pg-new', userId: 'u1', postId: 'v1', signal: 'click' }]);
    assert.deepEqual(again, { recorded: 1, usersCreated: 0, posts: 1, duplicates: 4 });
    assert.equal(await h.services.db.prisma.interaction.count(), 51);
    const stats = await h.services.db.prisma.postSignalStat.aggregate({ _sum: { total: true } });
    assert.equal(stats._sum.total, 51);
  });
});
