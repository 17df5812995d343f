/**
 * The interactions store (src/data/interactions.ts): every implementation answers the same contract on the database
 * it serves — the one openDatabase chooses, and the Prisma fallback over the same database (it runs only for
 * `file::memory:` in the application, which a second connection cannot share, so it is tested here on a file).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Db } from '../../src/data/db.js';
import type { BatchRow, InteractionStore } from '../../src/data/interactions.js';
import { migrate } from '../../src/data/migrate.js';
import { PostgresInteractionStore } from '../../src/data/postgres/interactions.js';
import { PrismaInteractionStore } from '../../src/data/prisma/interactions.js';
import { SqliteInteractionStore } from '../../src/data/sqlite/interactions.js';
import { PROVIDERS, tempDatabase, type TempDatabase } from '../helpers/databases.js';

for (const provider of PROVIDERS) {
  describe(`interaction stores on ${provider}`, () => {
    let temp: TempDatabase;
    let db: Db;
    before(async () => {
      temp = await tempDatabase(provider);
      await migrate(temp.url);
      db = await openDatabase(temp.url);
      for (const [i, mediaType] of (['VIDEO', 'IMAGE'] as const).entries()) {
        await db.prisma.post.create({ data: { externalId: `p${i}`, mediaType, createdAt: new Date(), payloadHash: 'h' } });
      }
    });
    after(async () => {
      await db?.close();
      await temp?.drop();
    });

    test('openDatabase chose the direct store of its database', () => {
      assert.ok(db.stores.interactions instanceof (provider === 'sqlite' ? SqliteInteractionStore : PostgresInteractionStore));
    });

    const stores = (): [string, InteractionStore][] => [
      ['direct', db.stores.interactions],
      ['prisma', new PrismaInteractionStore(db.prisma, db.provider)],
    ];

    test('both stores read the same signals and posts', async () => {
      const [[, direct], [, prisma]] = stores();
      const byId = <T extends { id: number }>(rows: T[]) => [...rows].sort((a, b) => a.id - b.id);
      const signals = byId(await direct.signals());
      assert.ok(signals.length >= 6);
      assert.equal(typeof signals[0].appliesToVideo, 'boolean');
      assert.deepEqual(signals, byId(await prisma.signals()));
      const posts = byId(await direct.postsByExternalId(['p0', 'p1', 'unknown']));
      assert.deepEqual(posts.map((p) => [p.externalId, p.mediaType]), [['p0', 'VIDEO'], ['p1', 'IMAGE']]);
      assert.deepEqual(posts, byId(await prisma.postsByExternalId(['p1', 'p0'])));
      assert.deepEqual(await direct.postsByExternalId([]), []);
    });

    for (const which of ['direct', 'prisma'] as const) {
      test(`${which}: a batch writes users, rows and statistics once; a stored event id is skipped`, async () => {
        const store = stores().find(([name]) => name === which)![1];
        const [post] = await store.postsByExternalId(['p0']);
        const click = (await store.signals()).find((s) => s.name === 'click')!;
        const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
        const row = (user: string, label: number, s: number, eventId: string | null): BatchRow => ({ userId: `${which}-${user}`, postKey: post.id, signalKey: click.id, label, timestamp: at(s), eventId });
        const before = await db.prisma.postSignalStat.findUnique({ where: { postId_signalId: { postId: post.id, signalId: click.id } } });

        const first = await store.writeBatch([row('a', 1, 5, `${which}-e1`), row('b', 0, 1, null), row('a', 1, 9, `${which}-e2`)], at(0));
        assert.deepEqual(first, { recorded: 3, usersCreated: 2, posts: 1 });
        const again = await store.writeBatch([row('a', 1, 5, `${which}-e1`), row('c', 1, 3, `${which}-e3`)], at(0));
        assert.deepEqual(again, { recorded: 1, usersCreated: 1, posts: 1 });
        assert.deepEqual(await store.writeBatch([row('a', 1, 5, `${which}-e1`)], at(0)), { recorded: 0, usersCreated: 0, posts: 0 });

        const users = await db.prisma.user.findMany({ where: { externalId: { startsWith: `${which}-` } }, select: { externalId: true } });
        assert.deepEqual(users.map((u) => u.externalId).sort(), [`${which}-a`, `${which}-b`, `${which}-c`]);
        const rows = await db.prisma.interaction.findMany({ where: { user: { externalId: { startsWith: `${which}-` } } }, orderBy: { timestamp: 'asc' } });
        assert.deepEqual(rows.map((r) => [r.label, r.timestamp.toISOString(), r.eventId]), [
          [0, at(1).toISOString(), null], [1, at(3).toISOString(), `${which}-e3`], [1, at(5).toISOString(), `${which}-e1`], [1, at(9).toISOString(), `${which}-e2`],
        ]);
        const stat = await db.prisma.postSignalStat.findUniqueOrThrow({ where: { postId_signalId: { postId: post.id, signalId: click.id } } });
        assert.equal(stat.total - (before?.total ?? 0), 4);
        assert.equal(stat.positives - (before?.positives ?? 0), 3);
        if (!before) assert.deepEqual([stat.firstSeen.toISOString(), stat.lastSeen.toISOString()], [at(1).toISOString(), at(9).toISOString()]);
      });
    }
  });
}
