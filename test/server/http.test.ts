import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { tempDatabase, type TempDatabase } from '../helpers/databases.js';
import { TEST_FEATURES } from '../helpers/harness.js';

describe('over real HTTP', () => {
  let app: RunningApp;
  let db: TempDatabase;
  let key: string;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  before(async () => {
    db = await tempDatabase('sqlite');
    app = await startApp(loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES }), createLogger('error', () => undefined));
    key = (await app.services.keys.create(['write'])).key;
  });
  after(async () => {
    await app.stop();
    await db.drop();
  });

  test('an empty database is migrated on start and answers queries', async () => {
    assert.ok(app.migrations.applied.length >= 2);
    const res = await post({ query: '{ signals { name } }' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { signals: { name: string }[] } };
    assert.deepEqual(body.data.signals.map((s) => s.name), ['click', 'like', 'share', 'favorite', 'video_play', 'skip']);
  });

  test('register, record and read maturity with a bearer key', async () => {
    const reg = await post({ query: 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id } }', variables: { i: { id: 'h1', mediaType: 'VIDEO', features: { text: [0.1, 0.2, 0.3] } } } }, { authorization: `Bearer ${key}` });
    assert.deepEqual(await reg.json(), { data: { registerPost: { id: 'h1' } } });
    const rec = await post({ query: 'mutation { recordInteractions(inputs: [{userId: "u", postId: "h1", signal: "video_play"}]) { recorded } }' }, { authorization: `Bearer ${key}` });
    assert.deepEqual(await rec.json(), { data: { recordInteractions: { recorded: 1 } } });
    const m = await post({ query: '{ post(id: "h1") { maturity(signal: "video_play") { views status } } }' });
    assert.deepEqual(await m.json(), { data: { post: { maturity: { views: 1, status: 'EARLY' } } } });
  });

  test('a mutation without a key is UNAUTHENTICATED; a health check answers', async () => {
    const res = await post({ query: 'mutation { upsertUsers(inputs: [{id: "x"}]) { id } }' });
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    assert.equal(body.errors[0].extensions.code, 'UNAUTHENTICATED');
    const health = await fetch(app.url.replace('/graphql', '/healthz'));
    assert.deepEqual(await health.json(), { ok: true });
  });

  test('malformed JSON is a 400 with BAD_USER_INPUT', async () => {
    const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":' });
    assert.equal(res.status, 400);
  });
});
