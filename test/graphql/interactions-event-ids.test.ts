import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const RECORD = `mutation($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { recorded usersCreated posts duplicates } }`;
const VIEWS = `query($id: ID!, $signal: String!) { post(id: $id) { maturity(signal: $signal) { views positives } } }`;

for (const provider of PROVIDERS) {
  describe(`recordInteractions with eventIds on ${provider}`, () => {
    let h: Harness;
    before(async () => {
      h = await harness(provider);
      await h.ok(`mutation { registerPosts(inputs: [{id: "ev", mediaType: VIDEO}, {id: "ei", mediaType: IMAGE}]) { id } }`);
    });
    after(() => h.close());

    const batch = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ userId: `eu${i % 7}`, postId: i % 3 ? 'ev' : 'ei', signal: 'click', label: i % 4 ? 1 : 0, timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), eventId: `${prefix}-${i}` }));

    test('a retried batch with the same eventIds records nothing twice', async () => {
      const prisma = h.services.db.prisma;
      const inputs = batch('retry', 50);
      const first = (await h.ok(RECORD, { inputs })).recordInteractions;
      assert.deepEqual(first, { recorded: 50, usersCreated: 7, posts: 2, duplicates: 0 });
      const rows = await prisma.interaction.count();
      const stats = (await h.ok(VIEWS, { id: 'ev', signal: 'click' })).post.maturity;
      // The client did not see the answer and sends the batch again, more than once, some of it in parallel.
      const again = await Promise.all([1, 2, 3].map(() => h.ok(RECORD, { inputs })));
      for (const a of again) assert.deepEqual(a.recordInteractions, { recorded: 0, usersCreated: 0, posts: 0, duplicates: 50 });
      assert.equal(await prisma.interaction.count(), rows);
      assert.deepEqual((await h.ok(VIEWS, { id: 'ev', signal: 'click' })).post.maturity, stats);
      // A batch that overlaps the stored one writes only its new ids; an id repeated in one batch is written once.
      const mixed = [...inputs.slice(40), ...batch('retry2', 5), batch('retry2', 5)[0]];
      assert.deepEqual((await h.ok(RECORD, { inputs: mixed })).recordInteractions, { recorded: 5, usersCreated: 0, posts: 2, duplicates: 11 });
      assert.equal(await prisma.interaction.count(), rows + 5);
      const stored = await prisma.interaction.findMany({ where: { eventId: { startsWith: 'retry' } }, select: { eventId: true } });
      assert.equal(new Set(stored.map((s) => s.eventId)).size, stored.length);
      assert.equal(stored.length, 55);
      // Inputs without an eventId are always written (the contract before eventIds).
      const plain = inputs.slice(0, 3).map(({ eventId: _, ...rest }) => rest);
      assert.equal((await h.ok(RECORD, { inputs: plain })).recordInteractions.recorded, 3);
      assert.equal((await h.ok(RECORD, { inputs: plain })).recordInteractions.recorded, 3);
    });

    test('a bad eventId or userId rejects the batch with its index and writes nothing', async () => {
      const prisma = h.services.db.prisma;
      const before = await prisma.interaction.count();
      for (const [bad, path] of [
        [{ userId: 'ok', postId: 'ev', signal: 'click', eventId: 'has space' }, 'inputs[2].eventId'],
        [{ userId: 'x'.repeat(200), postId: 'ev', signal: 'click' }, 'inputs[2].userId'],
        [{ userId: 'ok', postId: 'ev', signal: 'click', eventId: '' }, 'inputs[2].eventId'],
      ] as const) {
        const err = await h.fails('BAD_USER_INPUT', RECORD, { inputs: [...batch('bad', 2), bad] });
        assert.equal(err.extensions.path, path);
        assert.equal(err.extensions.index, 2);
      }
      assert.equal(await prisma.interaction.count(), before);
      assert.equal(await prisma.interaction.count({ where: { eventId: { startsWith: 'bad' } } }), 0);
    });

    test('concurrent batches over the same posts and new users all commit, with statistics that match the rows', async () => {
      const prisma = h.services.db.prisma;
      const before = await prisma.interaction.count({ where: { post: { externalId: 'ev' }, signal: { name: 'like' } } });
      const make = (b: number) => Array.from({ length: 200 }, (_, i) => ({ userId: `cu${(i * 31 + b) % 90}`, postId: 'ev', signal: i % 2 ? 'like' : 'share', eventId: `c${b}-${i}` }));
      const results = await Promise.all([0, 1, 2, 3, 4, 5].map((b) => h.ok(RECORD, { inputs: make(b) })));
      assert.equal(results.reduce((n, r) => n + r.recordInteractions.recorded, 0), 1200);
      assert.equal(results.reduce((n, r) => n + r.recordInteractions.usersCreated, 0), 90);
      const likes = await prisma.interaction.count({ where: { post: { externalId: 'ev' }, signal: { name: 'like' } } });
      assert.equal(likes, before + 600);
      assert.equal((await h.ok(VIEWS, { id: 'ev', signal: 'like' })).post.maturity.views, likes);
    });
  });
}
