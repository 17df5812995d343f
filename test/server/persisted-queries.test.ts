/**
 * Persisted queries through our HTTP layer: Apollo's automatic persisted queries (register, then hash-only, POST and
 * GET; a wrong hash), shared by two servers through the real Redis (127.0.0.1:6379, MEMER_TEST_REDIS_URL), and the
 * safelist mode (MEMER_SAFELIST): listed documents and hashes run (hash-only without registering), anything else,
 * introspection and APQ registrations included, is PERSISTED_QUERY_NOT_IN_LIST; a broken manifest stops the start.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig, type Config } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { tempDatabase, type TempDatabase } from '../helpers/databases.js';
import { TEST_FEATURES } from '../helpers/harness.js';

const REDIS_URL = process.env.MEMER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const quiet = createLogger('error', () => undefined);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const reachable = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port || 6379), hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
const skipRedis = (await reachable(REDIS_URL)) ? false : `no Redis at ${REDIS_URL}`;

type Body = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
async function post(app: RunningApp, body: unknown): Promise<{ status: number; body: Body }> {
  const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Body };
}
async function get(app: RunningApp, params: Record<string, string>): Promise<{ status: number; body: Body }> {
  // Apollo's CSRF prevention wants a header a browser's simple request cannot send.
  const res = await fetch(`${app.url}?${new URLSearchParams(params)}`, { headers: { 'apollo-require-preflight': 'true' } });
  return { status: res.status, body: (await res.json()) as Body };
}
const pq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

async function start(extra: Partial<Config> = {}): Promise<{ app: RunningApp; db: TempDatabase }> {
  const db = await tempDatabase('sqlite');
  const app = await startApp(loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES, ratePerAddress: 0, sync: 'off', ...extra }), quiet);
  return { app, db };
}

describe('automatic persisted queries (APQ)', () => {
  let s: { app: RunningApp; db: TempDatabase };
  before(async () => (s = await start()));
  after(async () => {
    await s.app.stop();
    await s.db.drop();
  });

  test('hash alone: not found; with the document: registered and run; then the hash alone runs, by POST and GET', async () => {
    const query = `{ signals { name } }`;
    const hash = sha(query);
    const miss = await post(s.app, { extensions: pq(hash) });
    assert.equal(miss.body.errors?.[0].extensions?.code, 'PERSISTED_QUERY_NOT_FOUND');
    const reg = await post(s.app, { query, extensions: pq(hash) });
    assert.equal(reg.status, 200);
    assert.equal(reg.body.data.signals.length, 6);
    const hit = await post(s.app, { extensions: pq(hash) });
    assert.deepEqual(hit.body, reg.body);
    const viaGet = await get(s.app, { extensions: JSON.stringify(pq(hash)) });
    assert.equal(viaGet.status, 200);
    assert.deepEqual(viaGet.body, reg.body);
  });

  test('a hash that is not its document is a 400 BAD_REQUEST, and nothing is registered', async () => {
    const wrong = await post(s.app, { query: '{ signals { name } }', extensions: pq(sha('something else')) });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.errors?.[0].extensions?.code, 'BAD_REQUEST');
    const miss = await post(s.app, { extensions: pq(sha('something else')) });
    assert.equal(miss.body.errors?.[0].extensions?.code, 'PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('APQ shared by replicas through Redis', { skip: skipRedis }, () => {
  let a: { app: RunningApp; db: TempDatabase };
  let b: { app: RunningApp; db: TempDatabase };
  before(async () => {
    a = await start({ redisUrl: REDIS_URL });
    b = await start({ redisUrl: REDIS_URL });
  });
  after(async () => {
    for (const s of [a, b]) {
      await s?.app.stop();
      await s?.db.drop();
    }
  });

  test('a document registered on one replica runs by its hash alone on the other', async () => {
    // Unique per run: Redis outlives the test.
    const query = `query Shared${process.pid}${Date.now()} { signals { name } }`;
    const hash = sha(query);
    assert.equal((await post(b.app, { extensions: pq(hash) })).body.errors?.[0].extensions?.code, 'PERSISTED_QUERY_NOT_FOUND');
    assert.ok((await post(a.app, { query, extensions: pq(hash) })).body.data);
    const hit = await post(b.app, { extensions: pq(hash) });
    assert.equal(hit.body.errors, undefined);
    assert.equal(hit.body.data.signals.length, 6);
  });
});

describe('safelist mode', () => {
  const listed = `query Signals { signals { name } }`;
  const other = `query Listed2($id: ID!) { post(id: $id) { id } }`;
  let dir: string;
  let s: { app: RunningApp; db: TempDatabase };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'memer-safelist-'));
    // Apollo's manifest format; the plain {hash: document} map is checked below.
    const manifest = { format: 'apollo-persisted-query-manifest', version: 1, operations: [listed, other].map((body) => ({ id: sha(body), name: 'x', type: 'query', body })) };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    s = await start({ safelist: join(dir, 'manifest.json') });
  });
  after(async () => {
    await s.app.stop();
    await s.db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a listed operation runs by its document, or by its hash alone without registering it first (POST and GET)', async () => {
    const byText = await post(s.app, { query: listed });
    assert.equal(byText.status, 200);
    assert.equal(byText.body.data.signals.length, 6);
    assert.deepEqual((await post(s.app, { extensions: pq(sha(other)), variables: { id: 'none' } })).body, { data: { post: null } });
    assert.deepEqual((await get(s.app, { extensions: JSON.stringify(pq(sha(listed))) })).body, byText.body);
  });

  test('anything else is PERSISTED_QUERY_NOT_IN_LIST (HTTP 400) before it is parsed: documents, hashes, registrations, introspection', async () => {
    const unlisted = '{ signals { name } }';
    const cases: unknown[] = [
      { query: unlisted },
      { extensions: pq(sha(unlisted)) },
      { query: unlisted, extensions: pq(sha(unlisted)) },
      { query: '{ __schema { types { name } } }' },
      { query: 'not even graphql {' },
      { extensions: pq('x'.repeat(10_000)) },
      {},
      [{ query: listed }],
    ];
    for (const body of cases) {
      const res = await post(s.app, body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.errors?.[0].extensions?.code, 'PERSISTED_QUERY_NOT_IN_LIST', JSON.stringify(res.body));
      assert.ok(res.body.errors![0].message.length < 200);
    }
    const viaGet = await get(s.app, { query: unlisted });
    assert.equal(viaGet.body.errors?.[0].extensions?.code, 'PERSISTED_QUERY_NOT_IN_LIST');
    // The refused registration did not list it.
    assert.equal((await post(s.app, { extensions: pq(sha(unlisted)) })).body.errors?.[0].extensions?.code, 'PERSISTED_QUERY_NOT_IN_LIST');
  });

  test('a manifest that is unreadable, empty or whose hash is not its document stops the start, naming MEMER_SAFELIST', () => {
    const write = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const good = write('plain.json', JSON.stringify({ [sha(listed)]: listed }));
    assert.equal(loadConfig({ MEMER_SAFELIST: good }).safelist, good);
    for (const path of [join(dir, 'missing.json'), write('bad.json', '{'), write('empty.json', '{}'), write('wrong.json', JSON.stringify({ [sha(other)]: listed })), write('upper.json', JSON.stringify({ [sha(listed).toUpperCase()]: listed }))]) {
      assert.throws(() => loadConfig({ MEMER_SAFELIST: path }), (err: unknown) => err instanceof ConfigError && err.setting === 'MEMER_SAFELIST', path);
    }
  });
});
