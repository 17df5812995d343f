/**
 * The embeddings store (src/data/embeddings.ts): every implementation answers the same contract on the database it
 * serves — the one openDatabase chooses, and the Prisma fallback over the same database (it runs only for
 * `file::memory:` in the application, which a second connection cannot share, so it is tested here on a file) — and
 * the in-transaction functions of the direct connections (sqlite/ and postgres/embeddings.ts) agree with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Db, type Tx } from '../../src/data/db.js';
import type { EmbeddingStore, PostEmbeddingRow } from '../../src/data/embeddings.js';
import { migrate } from '../../src/data/migrate.js';
import { PostgresEmbeddingStore, stillActive as stillActivePg } from '../../src/data/postgres/embeddings.js';
import { PrismaEmbeddingStore } from '../../src/data/prisma/embeddings.js';
import { SqliteEmbeddingStore, stillActive as stillActiveSqlite, upsertPostEmbeddings as upsertPostEmbeddingsSqlite } from '../../src/data/sqlite/embeddings.js';
import { bytesToVector } from '../../src/lib/vectors.js';
import { PROVIDERS, tempDatabase, type TempDatabase } from '../helpers/databases.js';

for (const provider of PROVIDERS) {
  describe(`embedding stores on ${provider}`, () => {
    let temp: TempDatabase;
    let db: Db;
    let postKeys: number[];
    let userKeys: number[];
    let signalKey: number;
    let active: number;
    let retired: number;
    before(async () => {
      temp = await tempDatabase(provider);
      await migrate(temp.url);
      db = await openDatabase(temp.url);
      postKeys = [];
      for (const [i, mediaType] of (['VIDEO', 'VIDEO', 'IMAGE'] as const).entries()) {
        postKeys.push((await db.prisma.post.create({ data: { externalId: `p${i}`, mediaType, createdAt: new Date(), payloadHash: 'h' } })).id);
      }
      userKeys = [];
      for (const i of [0, 1]) userKeys.push((await db.prisma.user.create({ data: { externalId: `u${i}` } })).id);
      signalKey = (await db.prisma.signal.findFirstOrThrow({ where: { name: 'click' } })).id;
      const version = (name: string, on: boolean) =>
        db.prisma.modelVersion.create({ data: { version: name, kind: 'MEMER', signalId: signalKey, mediaType: 'VIDEO', artefact: `${name}.onnx`, active: on } });
      active = (await version('memer-active', true)).id;
      retired = (await version('memer-retired', false)).id;
    });
    after(async () => {
      await db?.close();
      await temp?.drop();
    });

    test('openDatabase chose the store of its database', () => {
      assert.ok(db.stores.embeddings instanceof (provider === 'sqlite' ? SqliteEmbeddingStore : PostgresEmbeddingStore));
    });

    const stores = (): [string, EmbeddingStore][] => [
      ['chosen', db.stores.embeddings],
      ['prisma', new PrismaEmbeddingStore(db.prisma, db.provider)],
    ];
    const row = (post: number, version: number | null, fill: number, views = 0, source: PostEmbeddingRow['source'] = 'MEMER'): PostEmbeddingRow => ({
      postKey: postKeys[post], signalKey, source, modelVersionKey: version, vector: Float32Array.of(fill, fill + 0.5, -fill), views,
    });
    const stored = async (post: number, source: PostEmbeddingRow['source'] = 'MEMER') => {
      const e = await db.prisma.postEmbedding.findUnique({ where: { postId_signalId_source: { postId: postKeys[post], signalId: signalKey, source } } });
      return e && { vector: [...bytesToVector(e.vector)], views: e.views, version: e.modelVersionId, dim: e.dim, at: e.updatedAt.toISOString() };
    };

    for (const which of ['chosen', 'prisma'] as const) {
      test(`${which}: writePostEmbeddings upserts when the models are active, writes nothing when one is retired unless unchecked`, async () => {
        const store = stores().find(([name]) => name === which)![1];
        await db.prisma.postEmbedding.deleteMany({});
        const now = new Date(Date.UTC(2026, 0, 1, 0, 0, 1));
        // Two rows for one key: the last wins.
        assert.equal(await store.writePostEmbeddings([row(0, active, 1), row(1, active, 2, 3), row(0, active, 4, 1)], { check: true, now }), true);
        assert.deepEqual(await stored(0), { vector: [4, 4.5, -4], views: 1, version: active, dim: 3, at: now.toISOString() });
        assert.deepEqual(await stored(1), { vector: [2, 2.5, -2], views: 3, version: active, dim: 3, at: now.toISOString() });

        assert.equal(await store.writePostEmbeddings([row(0, active, 7), row(2, retired, 8)], { check: true }), false);
        assert.deepEqual((await stored(0))?.vector, [4, 4.5, -4]);
        assert.equal(await stored(2), null);

        const later = new Date(Date.UTC(2026, 0, 1, 0, 0, 2));
        assert.equal(await store.writePostEmbeddings([row(0, active, 7), row(2, retired, 8)], { check: false, now: later }), true);
        assert.deepEqual(await stored(0), { vector: [7, 7.5, -7], views: 0, version: active, dim: 3, at: later.toISOString() });
        assert.deepEqual(await stored(2), { vector: [8, 8.5, -8], views: 0, version: retired, dim: 3, at: later.toISOString() });
      });

      test(`${which}: inside a caller's Prisma transaction: the check, post and user upserts, rolled back with it`, async () => {
        const store = stores().find(([name]) => name === which)![1];
        await db.prisma.postEmbedding.deleteMany({});
        await db.prisma.userEmbedding.deleteMany({});
        const users = (fill: number) => userKeys.map((userKey, i) => ({ userKey, signalKey, modelVersionKey: active, vector: Float32Array.of(fill + i, -fill) }));
        await db.prisma.$transaction(async (t) => {
          const tx = t as Tx;
          assert.equal(await store.stillActive(tx, [row(0, active, 1), row(1, active, 1)]), true);
          assert.equal(await store.stillActive(tx, [row(0, active, 1), row(1, retired, 1)]), false);
          await store.upsertPostEmbeddings(tx, [row(0, active, 1, 0, 'MATURE'), row(0, active, 2, 0, 'MATURE'), row(1, active, 3)]);
          await store.upsertUserEmbeddings(tx, users(1));
          await store.upsertUserEmbeddings(tx, users(5));
        });
        assert.deepEqual((await stored(0, 'MATURE'))?.vector, [2, 2.5, -2]);
        assert.deepEqual((await stored(1))?.vector, [3, 3.5, -3]);
        const stu = await db.prisma.userEmbedding.findMany({ orderBy: { userId: 'asc' } });
        assert.deepEqual(stu.map((u) => [u.userId, u.dim, [...bytesToVector(u.vector)]]), [[userKeys[0], 2, [5, -5]], [userKeys[1], 2, [6, -5]]]);

        await assert.rejects(
          db.prisma.$transaction(async (t) => {
            await store.upsertPostEmbeddings(t as Tx, [row(2, active, 9)]);
            throw new Error('roll back');
          }),
          /roll back/,
        );
        assert.equal(await stored(2), null);
      });
    }

    test('the direct connection\'s in-transaction functions agree with the store', async () => {
      const cases: [PostEmbeddingRow[], boolean][] = [[[row(0, active, 1), row(1, active, 1)], true], [[row(0, active, 1), row(1, retired, 1)], false], [[row(0, retired, 1)], false]];
      for (const [rows, want] of cases) {
        const viaPrisma = await db.prisma.$transaction((t) => db.stores.embeddings.stillActive(t as Tx, rows));
        assert.equal(viaPrisma, want);
        if (provider === 'sqlite') assert.equal(await db.direct!.transaction(() => stillActiveSqlite(db.direct!, rows)), want);
        else assert.equal(await db.pg!.transaction((tx) => stillActivePg(tx, rows)), want);
      }
      if (provider === 'sqlite') {
        await db.prisma.postEmbedding.deleteMany({});
        const now = new Date(Date.UTC(2026, 0, 1, 0, 0, 3));
        await db.direct!.transaction(() => upsertPostEmbeddingsSqlite(db.direct!, [row(0, active, 1, 2), row(0, active, 3, 4)], now));
        assert.deepEqual(await stored(0), { vector: [3, 3.5, -3], views: 4, version: active, dim: 3, at: now.toISOString() });
      }
    });
  });
}
