/**
 * Bad input at scale: the generated corpus of bad-input-corpus.ts (over 1,000 malformed or hostile requests) against a
 * live `memer serve`, on SQLite and on PostgreSQL. Every request must be refused with its code (or, for a read of an
 * id that cannot exist, answered without error), none with INTERNAL_SERVER_ERROR, none with an answer that echoes a
 * 10 MB input back; after each one the database holds exactly what it held before (no partial write); and the server
 * is alive at the end, without an error in its log. MEMER_TEST_BAD_INPUT_REPORT=FILE writes every problem found there.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Db } from '../../src/data/db.js';
import { PROVIDERS } from '../helpers/databases.js';
import { features } from '../helpers/harness.js';
import { corpus, type BadRequest, type Fixtures } from './bad-input-corpus.js';
import { gql, killServer, liveDatabase, spawnServer, type LiveDatabase, type LiveServer } from './live-server.js';

/** Larger than any refusal needs: a refusal that quotes a 10 MB input is a defect. */
const MAX_ANSWER_BYTES = 16 * 1024;

/** Row counts and a fingerprint of user attributes: what any write would change. */
async function snapshot(db: Db): Promise<string> {
  const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT
    (SELECT COUNT(*) FROM "Post") AS posts, (SELECT COUNT(*) FROM "PostTag") AS tags, (SELECT COUNT(*) FROM "PostFeature") AS features,
    (SELECT COUNT(*) FROM "PostEmbedding") AS embeddings, (SELECT COUNT(*) FROM "Interaction") AS interactions, (SELECT COUNT(*) FROM "User") AS users,
    (SELECT COALESCE(SUM(LENGTH("attributes")), 0) FROM "User") AS attributes, (SELECT COALESCE(SUM("total"), 0) FROM "PostSignalStat") AS views,
    (SELECT COUNT(*) FROM "ModelVersion" WHERE "active") AS active`);
  return Object.entries(rows[0]).map(([k, v]) => `${k}=${Number(v)}`).join(' ');
}

async function send(url: string, db: LiveDatabase, c: BadRequest): Promise<Response> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.contentType !== null) headers['content-type'] = c.contentType ?? 'application/json';
  const auth = c.auth ?? 'write';
  if (auth === 'write') headers.authorization = `Bearer ${db.key}`;
  else if (auth === 'read') headers.authorization = `Bearer ${db.readKey}`;
  else if (auth !== 'none') headers.authorization = auth.header;
  const method = c.method ?? 'POST';
  // A Buffer body: fetch adds no content type of its own.
  return fetch(`${url}${c.search ?? ''}`, { method, headers, body: method === 'GET' ? undefined : Buffer.from(c.body) });
}

/** What is wrong with the answer to `c` (null: nothing). */
async function judge(c: BadRequest, res: Response): Promise<string | null> {
  const text = await res.text();
  if (c.rawStatus) return res.status === c.rawStatus ? null : `HTTP ${res.status}, expected ${c.rawStatus}`;
  if (text.length > MAX_ANSWER_BYTES) return `an answer of ${text.length} bytes: ${text.slice(0, 200)}`;
  let body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = JSON.parse(text);
  } catch {
    return `HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`;
  }
  const codes = (body.errors ?? []).map((e) => e.extensions?.code);
  if (codes.includes('INTERNAL_SERVER_ERROR')) return `INTERNAL_SERVER_ERROR: ${text.slice(0, 300)}`;
  if (c.code === 'none') return codes.length === 0 && res.status === 200 ? null : `expected an answer without error, got HTTP ${res.status} ${text.slice(0, 300)}`;
  if (codes[0] !== c.code) return `expected ${c.code}, got HTTP ${res.status} ${text.slice(0, 300)}`;
  if (c.status !== undefined && res.status !== c.status) return `HTTP ${res.status}, expected ${c.status}: ${text.slice(0, 200)}`;
  return null;
}

for (const provider of PROVIDERS) {
  describe(`a corpus of bad input against memer serve on ${provider}`, () => {
    let db: LiveDatabase;
    let server: LiveServer;
    let fx: Fixtures;
    before(async () => {
      db = await liveDatabase(provider, { models: true });
      server = await spawnServer(db.env);
      fx = { video: 'fx-video', image: 'fx-image', user: 'fx-user' };
      const reg = await gql(server.url, db.key, 'mutation($i: [RegisterPostInput!]!) { registerPosts(inputs: $i) { id } }', {
        i: [
          { id: fx.video, mediaType: 'VIDEO', tags: ['a'], features: { visual: features(8), audio: features(4), text: features(3) } },
          { id: fx.image, mediaType: 'IMAGE', tags: ['b'] },
        ],
      });
      assert.equal(reg.body.errors, undefined, JSON.stringify(reg.body));
      const user = await gql(server.url, db.key, 'mutation { upsertUsers(inputs: [{id: "fx-user", attributes: {country: "fr"}}]) { id } }');
      assert.equal(user.body.errors, undefined, JSON.stringify(user.body));
      const rec = await gql(server.url, db.key, 'mutation { recordInteractions(inputs: [{userId: "fx-user", postId: "fx-video", signal: "click"}]) { recorded } }');
      assert.equal(rec.body.errors, undefined, JSON.stringify(rec.body));
    });
    after(async () => {
      await killServer(server);
      await db.drop();
    });

    test('1,000+ bad requests: each refused with its code, none INTERNAL_SERVER_ERROR, nothing written, no crash', async () => {
      const cases = corpus(fx);
      assert.ok(cases.length >= 1000, `${cases.length} cases`);
      const check = await db.open();
      const problems: string[] = [];
      const t0 = performance.now();
      try {
        let state = await snapshot(check);
        for (const c of cases) {
          let problem: string | null;
          try {
            problem = await judge(c, await send(server.url, db, c));
          } catch (err) {
            problem = `no answer: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`;
          }
          if (problem) problems.push(`${c.name}: ${problem}`);
          const now = await snapshot(check);
          if (now !== state) problems.push(`${c.name}: the database changed: ${state} -> ${now}`);
          state = now;
          if (server.child.exitCode !== null || server.child.signalCode !== null) {
            problems.push(`${c.name}: the server died (${server.child.exitCode ?? server.child.signalCode})`);
            break;
          }
        }
      } finally {
        await check.close();
      }
      const errors = server.output().split('\n').filter((l) => l.includes('"level":"error"'));
      assert.equal((await fetch(server.url.replace('/graphql', '/livez'))).status, 200, 'alive');
      console.log(`# ${provider}: ${cases.length} bad requests in ${Math.round(performance.now() - t0)} ms, ${problems.length} problems`);
      if (process.env.MEMER_TEST_BAD_INPUT_REPORT) writeFileSync(process.env.MEMER_TEST_BAD_INPUT_REPORT, problems.join('\n'));
      assert.deepEqual(problems.slice(0, 80), [], `${problems.length} problems`);
      assert.deepEqual(errors.map((l) => l.slice(0, 500)), [], 'no error in the server log');
    });
  });
}
