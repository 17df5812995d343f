/**
 * Graceful stop. In process (startApp): /readyz turns 503 "shutting down", the listener refuses new connections, a
 * request in flight finishes (with Connection: close) and its write is stored; one that does not finish within
 * shutdownMs is cut. A real `memer serve` on SQLite and PostgreSQL: SIGTERM in the middle of a stream of writes, exit
 * 0, and after a restart every write the clients saw acknowledged is in the database.
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { openDatabase } from '../../src/data/db.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { PROVIDERS, tempDatabase, type TempDatabase } from '../helpers/databases.js';
import { TEST_FEATURES } from '../helpers/harness.js';
import { gql, killServer, liveDatabase, spawnServer, type LiveDatabase, type LiveServer } from './live-server.js';
import { emptyLedger, verify, writeStream } from './write-stream.js';

const REGISTER = 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id } }';

/** A POST whose body is sent in two parts: the request is in flight (its body being read) between them. */
function splitRequest(url: string, key: string, body: string) {
  const target = new URL(url);
  const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` } });
  const answer = new Promise<{ res: IncomingMessage; text: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ res, text }));
    });
    req.on('error', reject);
  });
  const cut = Math.floor(body.length / 2);
  const sent = new Promise<void>((resolve) => req.write(body.slice(0, cut), () => resolve()));
  return { answer, sent, finish: () => req.end(body.slice(cut)) };
}

test('MEMER_SHUTDOWN_MS: 10 s by default, 0 allowed, named when invalid', () => {
  assert.equal(loadConfig({}).shutdownMs, 10_000);
  assert.equal(loadConfig({ MEMER_SHUTDOWN_MS: '0' }).shutdownMs, 0);
  assert.throws(() => loadConfig({ MEMER_SHUTDOWN_MS: 'soon' }), (err: unknown) => err instanceof ConfigError && err.setting === 'MEMER_SHUTDOWN_MS');
});

describe('graceful stop in process', () => {
  let db: TempDatabase;
  before(async () => (db = await tempDatabase('sqlite')));
  after(() => db.drop());

  const start = (shutdownMs: number): Promise<RunningApp> =>
    startApp(loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES, shutdownMs }), createLogger('error', () => undefined));

  test('/readyz turns 503, new connections are refused, the request in flight finishes and is stored', async () => {
    const app = await start(5000);
    const { key } = await app.services.keys.create(['write']);
    const live = app.url.replace('/graphql', '/livez');
    assert.equal((await fetch(live)).status, 200);
    const { answer, sent, finish } = splitRequest(app.url, key, JSON.stringify({ query: REGISTER, variables: { i: { id: 'in-flight', mediaType: 'VIDEO', tags: ['x'] } } }));
    await sent;
    await new Promise((r) => setTimeout(r, 100));
    const stopping = app.stop();
    assert.deepEqual(await app.readiness.check(), { ready: false, reason: 'shutting down' });
    assert.match(await app.metrics.registry.metrics(), /^memer_ready 0$/m);
    await assert.rejects(fetch(live), 'the listener no longer accepts');
    finish();
    const { res, text } = await answer;
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(JSON.parse(text), { data: { registerPost: { id: 'in-flight' } } });
    const result = await stopping;
    assert.deepEqual([result.inFlight, result.cut], [1, 0]);
    assert.equal(await app.stop(), result, 'a second stop shares the first');
    const check = await openDatabase(db.url);
    try {
      assert.equal(await check.prisma.post.count({ where: { externalId: 'in-flight' } }), 1);
    } finally {
      await check.close();
    }
  });

  test('a request that does not finish within shutdownMs is cut, and the stop goes on', async () => {
    const app = await start(300);
    const { key } = await app.services.keys.create(['write']);
    const { answer, sent } = splitRequest(app.url, key, JSON.stringify({ query: REGISTER, variables: { i: { id: 'never', mediaType: 'VIDEO' } } }));
    const outcome = answer.then(() => 'answered', (err: Error) => err.message);
    await sent;
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const result = await app.stop();
    const ms = performance.now() - t0;
    assert.deepEqual([result.inFlight, result.cut], [1, 1]);
    assert.ok(ms >= 290 && ms < 3000, `stopped in ${ms} ms`);
    assert.equal(await outcome, 'socket hang up', 'the cut request gets no answer');
  });
});

for (const provider of PROVIDERS) {
  describe(`SIGTERM during a stream of writes: memer serve on ${provider}`, () => {
    let db: LiveDatabase;
    let server: LiveServer | undefined;
    before(async () => (db = await liveDatabase(provider, { models: true })));
    after(async () => {
      await killServer(server);
      await db.drop();
    });

    test('exit 0; after a restart every acknowledged write is stored', async () => {
      server = await spawnServer({ ...db.env, LOG_LEVEL: 'info' });
      const ledger = emptyLedger();
      let signalled = false;
      let answeredAfter = 0;
      const running = server;
      const stream = writeStream(server.url, db.key, ledger, {
        prefix: 'term',
        seed: 11,
        onAck: (l) => {
          if (signalled) answeredAfter++;
          else if (l.acked >= 60) {
            signalled = true;
            running.child.kill('SIGTERM');
          }
        },
      });
      await stream;
      const { code, signal } = await server.exited;
      const out = server.output();
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, out);
      assert.match(out, /"msg":"shutting down"/);
      assert.match(out, /"msg":"stopped".*"cut":0/, 'every request in flight finished');
      assert.doesNotMatch(out, /"level":"error"/);
      assert.deepEqual(ledger.unexpected, [], 'every answer was an acknowledgement');
      assert.ok(ledger.acked >= 60, `${ledger.acked} acknowledged`);

      server = await spawnServer(db.env);
      const check = await db.open();
      try {
        assert.deepEqual(await verify(check, ledger, { vectors: true }), []);
      } finally {
        await check.close();
      }
      // The restarted server serves them.
      const some = [...ledger.posts.keys()].slice(-3);
      for (const id of some) assert.equal((await gql(server.url, null, 'query($id: ID!) { post(id: $id) { id } }', { id })).body.data.post.id, id);
      server.child.kill('SIGTERM');
      assert.equal((await server.exited).code, 0);
      console.log(`# ${provider}: ${ledger.acked} writes acknowledged, ${answeredAfter} of them after SIGTERM`);
    });
  });
}
