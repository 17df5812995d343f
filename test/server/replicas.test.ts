/**
 * Replicas in under a second: two servers (startApp, in this process) on one PostgreSQL database, polling only once a
 * minute, so that only a change notification explains a fast pick-up. An upload on either is recommendable on the
 * other within 1 s, by LISTEN/NOTIFY and by Redis pub/sub (the real Redis at 127.0.0.1:6379, MEMER_TEST_REDIS_URL);
 * a model change reaches the other's registry the same way; a LISTEN connection killed by the server is reconnected
 * and the replica catches up; with the feed off, the poll still brings the upload.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { RECOMMEND, seedReplicas, UPLOAD } from '../../src/bench/replicas.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { tempDatabase, type TempDatabase } from '../helpers/databases.js';
import { TEST_FEATURES } from '../helpers/harness.js';
import { tinyVideoModel } from './live-server.js';

const REDIS_URL = process.env.MEMER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const quiet = createLogger('error', () => undefined);
const reachable = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port || 6379), hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
const skipRedis = (await reachable(REDIS_URL)) ? false : `no Redis at ${REDIS_URL}`;

async function gql(app: RunningApp, query: string, variables: Record<string, unknown> = {}, key?: string): Promise<any> {
  const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

/** Uploads `id` on `from`, then ms until `to` recommends it (polling it every 5 ms), or throws after `limitMs`. */
async function propagation(from: RunningApp, to: RunningApp, key: string, id: string, limitMs: number): Promise<number> {
  await gql(from, UPLOAD, { id }, key);
  const t0 = performance.now();
  for (;;) {
    const ids = (await gql(to, RECOMMEND)).recommendations.map((r: { post: { id: string } }) => r.post.id);
    const ms = performance.now() - t0;
    if (ids.includes(id)) return ms;
    if (ms > limitMs) throw new Error(`${id} not recommended by the other replica after ${Math.round(ms)} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Pair {
  db: TempDatabase;
  a: RunningApp;
  b: RunningApp;
  writeKey: string;
  stop(): Promise<void>;
}

async function pair(extra: Partial<Config>, modelDir?: string): Promise<Pair> {
  const db = await tempDatabase('postgresql');
  const { writeKey } = await seedReplicas(db.url);
  const config = loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES, refreshMs: 60_000, ratePerKey: 0, ratePerAddress: 0, ...(modelDir ? { modelDir } : {}), ...extra });
  const a = await startApp(config, quiet);
  const b = await startApp(config, quiet);
  return {
    db,
    a,
    b,
    writeKey,
    async stop() {
      await a.stop();
      await b.stop();
      await db.drop();
    },
  };
}

describe('PostgreSQL LISTEN/NOTIFY', () => {
  let p: Pair;
  let modelDir: string;
  before(async () => {
    modelDir = mkdtempSync(join(tmpdir(), 'memer-replicas-'));
    p = await pair({}, modelDir);
  });
  after(async () => {
    await p?.stop();
    rmSync(modelDir, { recursive: true, force: true });
  });

  test('an upload on one replica is recommended by the other within 1 s, both ways', async () => {
    assert.equal(p.a.feed?.transport, 'postgres');
    assert.equal(p.a.feed?.connected, true);
    const times = [];
    for (let i = 0; i < 6; i++) times.push(await propagation(i % 2 ? p.b : p.a, i % 2 ? p.a : p.b, p.writeKey, `pg-${i}`, 1000));
    assert.ok(p.a.feed!.stats.sent >= 3 && p.b.feed!.stats.received >= 3, JSON.stringify([p.a.feed!.stats, p.b.feed!.stats]));
    // A replica ignores its own notifications: the 3 uploads on A are B's, not A's, refreshes.
    assert.ok(p.a.feed!.stats.received <= p.b.feed!.stats.sent);
    const metrics = await (await fetch(p.b.url.replace('/graphql', '/metrics'))).text();
    assert.match(metrics, /memer_sync_connected\{transport="postgres"\} 1/);
    assert.match(metrics, /memer_sync_notifications_total\{direction="received"\} [1-9]/);
    console.log(`# LISTEN/NOTIFY propagation (ms): ${times.map(Math.round).join(', ')}`);
  });

  test("a model change reaches the other replica's registry at once", async () => {
    writeFileSync(join(modelDir, 'click.onnx'), await tinyVideoModel(1, 'click'));
    const db = await p.a.services.db;
    const { id } = await db.prisma.signal.findUniqueOrThrow({ where: { name: 'click' } });
    await db.prisma.modelVersion.create({ data: { version: 'click-sync', kind: 'MEMER', signalId: id, mediaType: 'VIDEO', status: 'READY', metrics: '{"freqScale":50}', artefact: 'click.onnx', active: true } });
    // What activateModel's response publishes (sync-plugin.ts), once its transaction committed.
    p.a.feed!.publish('models');
    const t0 = performance.now();
    while (!p.b.services.registry.current().memer.has('click:VIDEO')) {
      assert.ok(performance.now() - t0 < 1000, 'the model did not reach the other replica within 1 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(p.b.services.registry.current().memer.get('click:VIDEO')?.version, 'click-sync');
  });

  test('a LISTEN connection the server kills is reconnected, and the replica catches up on what it missed', async () => {
    const admin = new pg.Client({ connectionString: p.db.url });
    await admin.connect();
    try {
      const reconnects = p.b.feed!.stats.reconnects;
      // Both replicas' feed connections go; B's upload meanwhile is missed by A's feed, found by A's resync.
      const { rowCount } = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'memer-sync'`);
      assert.equal(rowCount, 2);
      await gql(p.b, UPLOAD, { id: 'missed' }, p.writeKey);
      const t0 = performance.now();
      while (p.b.feed!.stats.reconnects === reconnects || !p.a.feed!.connected) {
        assert.ok(performance.now() - t0 < 3000, 'the feed did not reconnect');
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(await propagation(p.b, p.a, p.writeKey, 'after-reconnect', 1000) < 1000);
      const ids = (await gql(p.a, RECOMMEND)).recommendations.map((r: { post: { id: string } }) => r.post.id);
      assert.ok(ids.includes('missed'));
    } finally {
      await admin.end();
    }
  });
});

describe('Redis pub/sub', { skip: skipRedis }, () => {
  let p: Pair;
  before(async () => (p = await pair({ redisUrl: REDIS_URL, sync: 'redis' })));
  after(async () => p?.stop());

  test('an upload on one replica is recommended by the other within 1 s', async () => {
    assert.equal(p.a.feed?.transport, 'redis');
    const times = [];
    for (let i = 0; i < 4; i++) times.push(await propagation(i % 2 ? p.b : p.a, i % 2 ? p.a : p.b, p.writeKey, `redis-${i}`, 1000));
    console.log(`# Redis pub/sub propagation (ms): ${times.map(Math.round).join(', ')}`);
  });
});

describe('the poll stays the safety net', () => {
  let p: Pair;
  before(async () => (p = await pair({ sync: 'off', refreshMs: 300 })));
  after(async () => p?.stop());

  test('with no feed an upload still reaches the other replica, at its next poll', async () => {
    assert.equal(p.a.feed, null);
    assert.ok((await propagation(p.a, p.b, p.writeKey, 'polled', 3000)) < 3000);
  });
});
