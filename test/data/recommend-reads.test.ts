/**
 * The recommendation reads (src/data/recommend-reads.ts): the implementation openDatabase chooses and the Prisma
 * fallback over the same database (it runs only for `file::memory:` in the application, which a second connection
 * cannot share, so it is tested here on a file) answer the same contract on every database.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Db } from '../../src/data/db.js';
import { migrate } from '../../src/data/migrate.js';
import { PostgresRecommendationReads } from '../../src/data/postgres/recommend-reads.js';
import { PrismaRecommendationReads } from '../../src/data/prisma/recommend-reads.js';
import type { RecommendationReads, StampCount, StampedRow } from '../../src/data/recommend-reads.js';
import { SqliteRecommendationReads } from '../../src/data/sqlite/recommend-reads.js';
import { PROVIDERS, tempDatabase, type TempDatabase } from '../helpers/databases.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const sorted = (rows: readonly StampedRow[]) => [...rows].sort((a, b) => a.at - b.at || a.key - b.key);
const counts = (rows: readonly StampCount[]) => rows.map(({ at, n }) => ({ at, n })).sort((a, b) => a.at - b.at);

for (const provider of PROVIDERS) {
  describe(`recommendation reads on ${provider}`, () => {
    let temp: TempDatabase;
    let db: Db;
    let posts: number[];
    let user: number;
    let signal: number;
    let other: number;
    before(async () => {
      temp = await tempDatabase(provider);
      await migrate(temp.url);
      db = await openDatabase(temp.url);
      [signal, other] = (await db.prisma.signal.findMany({ where: { name: { in: ['click', 'like'] } }, orderBy: { name: 'asc' } })).map((s) => s.id);
      posts = [];
      // Two posts share the stamp of second 2: one count of 2.
      for (const [i, s] of [1, 2, 2, 3].entries()) {
        posts.push((await db.prisma.post.create({ data: { externalId: `p${i}`, mediaType: i === 3 ? 'IMAGE' : 'VIDEO', text: `text ${i}`, createdAt: t(0), registeredAt: t(s), payloadHash: 'h', tags: { create: i === 0 ? [{ tag: 'b' }, { tag: 'a' }] : [] } } })).id);
      }
      const vector = Buffer.from(Float32Array.of(1, 2).buffer);
      const embed = (post: number, signalId: number, source: 'MATURE' | 'MEMER' | 'TAG_AVG', s: number) =>
        db.prisma.postEmbedding.create({ data: { postId: posts[post], signalId, source, dim: 2, vector, updatedAt: t(s) } });
      await embed(0, signal, 'MATURE', 1);
      await embed(1, signal, 'MEMER', 4);
      await embed(2, signal, 'MEMER', 4);
      await embed(3, signal, 'TAG_AVG', 5); // not a MATURE or MEMER row: never read
      await embed(3, other, 'MEMER', 5); // another signal
      user = (await db.prisma.user.create({ data: { externalId: 'u0' } })).id;
      await db.prisma.user.create({ data: { externalId: 'u1' } });
      for (const [post, s] of [[0, 10], [2, 12], [1, 11]]) await db.prisma.interaction.create({ data: { userId: user, postId: posts[post], signalId: signal, label: 1, timestamp: t(s) } });
      await db.prisma.userEmbedding.create({ data: { userId: user, signalId: signal, dim: 2, vector } });
    });
    after(async () => {
      await db?.close();
      await temp?.drop();
    });

    test('openDatabase chose the reads of its database', () => {
      assert.ok(db.stores.recommendations instanceof (provider === 'sqlite' ? SqliteRecommendationReads : PostgresRecommendationReads));
    });

    const readers = (): [string, RecommendationReads][] => [
      ['chosen', db.stores.recommendations],
      ['prisma', new PrismaRecommendationReads(db.prisma)],
    ];

    for (const which of ['chosen', 'prisma'] as const) {
      const reads = () => readers().find(([name]) => name === which)![1];

      test(`${which}: the refresh window's counts, rows and rows at stamps`, async () => {
        const r = reads();
        assert.deepEqual(counts(await r.postCounts(t(1))), [{ at: t(2).getTime(), n: 2 }, { at: t(3).getTime(), n: 1 }]);
        assert.deepEqual(counts(await r.vectorCounts(signal, t(0))), [{ at: t(1).getTime(), n: 1 }, { at: t(4).getTime(), n: 2 }]);
        assert.deepEqual(sorted(await r.postsSince(t(2))), [{ key: posts[3], at: t(3).getTime() }]);
        assert.deepEqual(sorted(await r.vectorsSince(signal, t(1))), [{ key: posts[1], at: t(4).getTime() }, { key: posts[2], at: t(4).getTime() }]);
        // The stamps as this reader returned them (raw), one of three (padded to four) and more than a chunk.
        const postStamps = (await r.postCounts(t(0))).filter((c) => c.at !== t(3).getTime());
        assert.deepEqual(sorted(await r.postsAt(postStamps)), [{ key: posts[0], at: t(1).getTime() }, { key: posts[1], at: t(2).getTime() }, { key: posts[2], at: t(2).getTime() }]);
        const vectorStamps = await r.vectorCounts(signal, t(0));
        assert.deepEqual(sorted(await r.vectorsAt(signal, vectorStamps)), [{ key: posts[0], at: t(1).getTime() }, { key: posts[1], at: t(4).getTime() }, { key: posts[2], at: t(4).getTime() }]);
        // 300 stamps: two chunks (256, then 44 padded to 64), each of which reads the row again.
        assert.deepEqual(sorted(await r.vectorsAt(signal, Array.from({ length: 300 }, () => vectorStamps.find((c) => c.at === t(1).getTime())!))), [{ key: posts[0], at: t(1).getTime() }, { key: posts[0], at: t(1).getTime() }]);
        assert.deepEqual(await r.postsAt([]), []);
      });

      test(`${which}: the user's recent interactions (newest first, limited) and embedding; an unknown user is null`, async () => {
        const r = reads();
        const context = await r.userContext('u0', signal, 2);
        assert.deepEqual(context?.recent, [posts[2], posts[1]]);
        assert.deepEqual([...new Float32Array(new Uint8Array(context!.vector!).buffer)], [1, 2]);
        assert.deepEqual(await r.userContext('u0', other, 10), { recent: [posts[2], posts[1], posts[0]], vector: null });
        assert.deepEqual(await r.userContext('u1', signal, 10), { recent: [], vector: null });
        assert.equal(await r.userContext('nobody', signal, 10), null);
      });

      test(`${which}: posts by key with their tags; unknown keys are absent`, async () => {
        const rows = (await reads().postsByKey([posts[3], posts[0], 999_999])).sort((a, b) => a.id - b.id);
        assert.deepEqual(
          rows.map(({ id, externalId, mediaType, text, createdAt, registeredAt, tags }) => ({ id, externalId, mediaType, text, createdAt, registeredAt, tags: tags.map((x) => x.tag).sort() })),
          [
            { id: posts[0], externalId: 'p0', mediaType: 'VIDEO', text: 'text 0', createdAt: t(0), registeredAt: t(1), tags: ['a', 'b'] },
            { id: posts[3], externalId: 'p3', mediaType: 'IMAGE', text: 'text 3', createdAt: t(0), registeredAt: t(3), tags: [] },
          ],
        );
        assert.deepEqual(await reads().postsByKey([]), []);
      });
    }
  });
}
