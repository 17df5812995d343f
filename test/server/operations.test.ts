/** Health, readiness, metrics, request ids and logs of a live server (startApp over real HTTP). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Services } from '../../src/domain/services.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { Readiness } from '../../src/server/readiness.js';
import { tempDatabase, type TempDatabase } from '../helpers/databases.js';
import { TEST_FEATURES } from '../helpers/harness.js';

const bin = new URL('../../bin/memer.js', import.meta.url).pathname;

async function start(db: TempDatabase, overrides: Partial<Config> = {}, lines: string[] = [], hold?: Record<string, string>): Promise<RunningApp> {
  const config = loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES, ...overrides });
  return startApp(config, createLogger('info', (l) => lines.push(l)), hold ? { hold } : {});
}

const gql = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('health, readiness, metrics and request logs', () => {
  let db: TempDatabase;
  let app: RunningApp;
  const lines: string[] = [];
  const at = (path: string) => app.url.replace('/graphql', path);

  before(async () => {
    db = await tempDatabase('sqlite');
    app = await start(db, {}, lines);
  });
  after(async () => {
    await app.stop();
    await db.drop();
  });

  test('/livez and /readyz answer 200 once started', async () => {
    const live = await fetch(at('/livez'));
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { ok: true });
    const ready = await fetch(at('/readyz'));
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, reason: null });
  });

  test('a request id is taken from x-request-id or made, returned, and logged with the operation and outcome; no key, no vector', async () => {
    const { key } = await app.services.keys.create(['write']);
    const vector = [0.123456, 0.654321, 0.111111];
    const res = await gql(app.url, { query: 'mutation Upload($i: RegisterPostInput!) { registerPost(input: $i) { id } }', operationName: 'Upload', variables: { i: { id: 'log-1', mediaType: 'VIDEO', features: { text: vector } } } }, { authorization: `Bearer ${key}`, 'x-request-id': 'client-id-42' });
    assert.equal(res.headers.get('x-request-id'), 'client-id-42');
    assert.deepEqual(await res.json(), { data: { registerPost: { id: 'log-1' } } });
    const made = await gql(app.url, { query: '{ signals { name } }' }, { 'x-request-id': 'bad id with spaces' });
    const id = made.headers.get('x-request-id')!;
    assert.match(id, /^[0-9a-f-]{36}$/);
    await made.json();
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    const upload = logged.find((l) => l.requestId === 'client-id-42');
    assert.ok(upload, JSON.stringify(logged));
    assert.equal(upload.operation, 'Upload');
    assert.equal(upload.outcome, 'ok');
    assert.equal(upload.status, 200);
    assert.equal(typeof upload.ms, 'number');
    assert.match(String(upload.client), /^key:[0-9a-f]{12}$/);
    assert.ok(logged.some((l) => l.requestId === id && l.outcome === 'ok'));
    const all = lines.join('\n');
    assert.ok(!all.includes(key) && !all.includes(key.slice('mk_'.length + 13)), 'the key is not logged');
    assert.ok(!all.includes('0.123456') && !all.includes('0.654321'), 'vectors are not logged');
  });

  test('/metrics: HTTP and operation durations by name and outcome, limits, index and process metrics', async () => {
    await (await gql(app.url, { query: 'query Sig { signals { name } }' })).json();
    await (await gql(app.url, { query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: signals { name }`).join(' ')} }` })).json();
    const res = await fetch(at('/metrics'));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /memer_graphql_operation_duration_seconds_count\{operation="Sig",type="query",field="signals",outcome="ok"\} 1/);
    assert.match(text, /memer_graphql_operation_duration_seconds_count\{operation="\(anonymous\)",type="unknown",field="none",outcome="QUERY_TOO_COMPLEX"\} 1/);
    assert.match(text, /memer_query_rejected_total\{limit="aliases"\} 1/);
    assert.match(text, /memer_http_request_duration_seconds_count\{route="\/graphql",method="POST",status="200"\} \d+/);
    assert.match(text, /memer_ready 1/);
    for (const name of ['nodejs_eventloop_lag_seconds', 'process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'memer_rate_limited_total', 'memer_index_refresh_lag_seconds', 'memer_model_active']) {
      assert.ok(text.includes(name), name);
    }
  });

  test('over HTTP: an over-limit query is a 400 QUERY_TOO_COMPLEX, a null for a defaulted non-null argument a 400 BAD_USER_INPUT', async () => {
    const over = await gql(app.url, { query: `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: posts(first: 100) { edges { node { id embedding(signal: "click") { vector } } } }`).join(' ')} }` });
    assert.equal(over.status, 400);
    const body = (await over.json()) as { data?: unknown; errors: { extensions: { code: string; limit: string } }[] };
    assert.deepEqual([body.data, body.errors[0].extensions.code, body.errors[0].extensions.limit], [undefined, 'QUERY_TOO_COMPLEX', 'cost']);
    for (const x of [null, Number.NaN, Number.POSITIVE_INFINITY]) {
      // JSON.stringify turns NaN and Infinity into null, as a client's serializer does.
      const res = await gql(app.url, { query: 'query($x: Int) { posts(first: $x) { edges { cursor } } }', variables: { x } });
      assert.equal(res.status, 400);
      const b = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      assert.equal(b.errors[0].extensions.code, 'BAD_USER_INPUT', JSON.stringify(b));
    }
  });

  test('an operation name past the first 200 is labelled "other" (bounded label values)', () => {
    const m = app.metrics;
    for (let i = 0; i < 250; i++) m.operationLabel(`Op${i}`);
    assert.equal(m.operationLabel('Op10'), 'Op10');
    assert.equal(m.operationLabel('Op249'), 'other');
    assert.equal(m.operationLabel('not a name!'), 'other');
  });
});

describe('readiness while starting', () => {
  let db: TempDatabase;
  before(async () => (db = await tempDatabase('sqlite')));
  after(() => db.drop());

  test('a held phase (the demo) keeps /readyz 503 with its reason and GraphQL NOT_READY; released, both serve', async () => {
    const app = await start(db, {}, [], { demo: 'building the demo platform' });
    try {
      const ready = await fetch(app.url.replace('/graphql', '/readyz'));
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { ready: false, reason: 'building the demo platform' });
      assert.equal((await fetch(app.url.replace('/graphql', '/livez'))).status, 200);
      const res = await gql(app.url, { query: '{ models { version } }' });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      assert.equal(body.errors[0].extensions.code, 'NOT_READY');
      app.readiness.release('demo');
      assert.equal((await fetch(app.url.replace('/graphql', '/readyz'))).status, 200);
      assert.equal((await gql(app.url, { query: '{ models { version } }' })).status, 200);
    } finally {
      await app.stop();
    }
  });

  test('the live checks: an unreachable database, an active model version that did not load', async () => {
    const services = (ok: boolean, snapshot: { stamp: string; keys: number[] }) =>
      ({
        db: { prisma: { $queryRawUnsafe: async () => (ok ? [{ 1: 1 }] : Promise.reject(new Error('connection refused'))) } },
        registry: { current: () => ({ stamp: snapshot.stamp, memer: new Map(snapshot.keys.map((k) => [`s${k}`, { versionKey: k }])), ensembles: [] }) },
      }) as unknown as Services;
    const r = new Readiness();
    assert.deepEqual(await r.check(), { ready: false, reason: 'starting' });
    r.hold('start', 'applying migrations');
    r.attach(services(true, { stamp: '', keys: [] }));
    assert.deepEqual(await r.check(), { ready: false, reason: 'applying migrations' });
    r.release('start');
    assert.deepEqual(await r.check(), { ready: true, reason: null });
    const down = new Readiness();
    down.attach(services(false, { stamp: '', keys: [] }));
    assert.deepEqual(await down.check(), { ready: false, reason: 'database unreachable: connection refused' });
    const broken = new Readiness();
    broken.attach(services(true, { stamp: '3,4', keys: [3] }));
    assert.deepEqual(await broken.check(), { ready: false, reason: 'active model versions not loaded: #4' });
  });

  test('memer serve prints its URL only when /readyz answers 200', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' } });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /serving GraphQL at (\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.stderr.on('data', (b: Buffer) => (out += b.toString()));
        child.once('exit', (code) => reject(new Error(`memer serve exited with ${code}: ${out}`)));
      });
      const ready = await fetch(url.replace('/graphql', '/readyz'));
      assert.equal(ready.status, 200);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
