import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const RECORD = `mutation($inputs: [InteractionInput!]!) { recordInteractions(inputs: $inputs) { recorded usersCreated posts } }`;
const MATURITY = `query($id: ID!, $signal: String!) { post(id: $id) { maturity(signal: $signal) { signal status views positives threshold progress firstSeen lastSeen } } }`;

for (const provider of PROVIDERS) {
  describe(`interactions on ${provider}`, () => {
    let h: Harness;
    before(async () => {
      h = await harness(provider);
      await h.ok(`mutation { registerPosts(inputs: [{id: "v", mediaType: VIDEO}, {id: "i", mediaType: IMAGE}]) { id } }`);
    });
    after(() => h.close());

    test('a batch creates unknown users, stores rows and updates per post and signal statistics atomically', async () => {
      const data = await h.ok(RECORD, {
        inputs: [
          { userId: 'alice', postId: 'v', signal: 'click', timestamp: '2026-11-02T10:00:00Z' },
          { userId: 'bob', postId: 'v', signal: 'click', label: 0, timestamp: '2026-11-02T09:00:00Z' },
          { userId: 'alice', postId: 'v', signal: 'video_play', timestamp: '2026-11-02T10:01:00Z' },
          { userId: 'carol', postId: 'i', signal: 'like', timestamp: '2026-11-02T11:00:00Z' },
        ],
      });
      assert.deepEqual(data.recordInteractions, { recorded: 4, usersCreated: 3, posts: 3 });
      // A second batch increments counts and widens first/last seen, including an out-of-order timestamp.
      await h.ok(RECORD, {
        inputs: [
          { userId: 'alice', postId: 'v', signal: 'click', timestamp: '2026-11-01T08:00:00Z' },
          { userId: 'dave', postId: 'v', signal: 'click', timestamp: '2026-11-03T08:00:00Z' },
        ],
      });
      const m = await h.ok(MATURITY, { id: 'v', signal: 'click' });
      assert.deepEqual(m.post.maturity, {
        signal: 'click',
        status: 'EARLY',
        views: 4,
        positives: 3,
        threshold: null,
        progress: 0,
        firstSeen: '2026-11-01T08:00:00.000Z',
        lastSeen: '2026-11-03T08:00:00.000Z',
      });
      const rows = await h.services.db.prisma.interaction.count({ where: { post: { externalId: 'v' }, signal: { name: 'click' } } });
      assert.equal(rows, m.post.maturity.views);
      assert.equal((await h.ok(`{ users(first: 10) { edges { node { id } } } }`)).users.edges.length, 4);
    });

    test('a bad element rejects the whole batch, naming it, and writes nothing', async () => {
      const before = await h.services.db.prisma.interaction.count();
      const users = await h.services.db.prisma.user.count();
      const cases: [Record<string, unknown>, RegExp, string][] = [
        [{ userId: 'zed', postId: 'nope', signal: 'click' }, /inputs\[1\]\.postId: unknown post "nope"/, 'inputs[1].postId'],
        [{ userId: 'zed', postId: 'v', signal: 'poke' }, /inputs\[1\]\.signal: unknown signal "poke"/, 'inputs[1].signal'],
        [{ userId: 'zed', postId: 'i', signal: 'skip' }, /skip does not apply to IMAGE posts/, 'inputs[1].signal'],
        [{ userId: 'zed', postId: 'v', signal: 'click', label: 2 }, /label must be 0 or 1/, 'inputs[1].label'],
      ];
      for (const [bad, message, path] of cases) {
        const err = await h.fails('BAD_USER_INPUT', RECORD, { inputs: [{ userId: 'newbie', postId: 'v', signal: 'like' }, bad] });
        assert.match(err.message, message);
        assert.equal(err.extensions.path, path);
        assert.equal(err.extensions.index, 1);
      }
      assert.equal(await h.services.db.prisma.interaction.count(), before);
      assert.equal(await h.services.db.prisma.user.count(), users);
      const like = await h.ok(MATURITY, { id: 'v', signal: 'like' });
      assert.equal(like.post.maturity.views, 0);
    });

    test('maturity reads the stored threshold: MATURE once views reach M', async () => {
      const prisma = h.services.db.prisma;
      const click = await prisma.signal.findUniqueOrThrow({ where: { name: 'click' } });
      await prisma.maturityThreshold.create({ data: { signalId: click.id, mediaType: 'VIDEO', threshold: 5 } });
      let m = (await h.ok(MATURITY, { id: 'v', signal: 'click' })).post.maturity;
      assert.deepEqual([m.status, m.views, m.threshold, m.progress], ['EARLY', 4, 5, 0.8]);
      await h.ok(RECORD, { inputs: [{ userId: 'erin', postId: 'v', signal: 'click' }] });
      m = (await h.ok(MATURITY, { id: 'v', signal: 'click' })).post.maturity;
      assert.deepEqual([m.status, m.views, m.progress], ['MATURE', 5, 1]);
      await h.fails('BAD_USER_INPUT', MATURITY, { id: 'v', signal: 'nope' });
    });

    test('upsertUsers creates and updates attributes; user(id) reads them', async () => {
      await h.ok(`mutation { upsertUsers(inputs: [{id: "u9", attributes: {country: "IN"}}]) { id } }`);
      await h.ok(`mutation { upsertUsers(inputs: [{id: "u9", attributes: {country: "IN", age: 31}}, {id: "u10"}]) { id } }`);
      const data = await h.ok(`{ user(id: "u9") { id attributes } u10: user(id: "u10") { attributes } }`);
      assert.deepEqual(data, { user: { id: 'u9', attributes: { country: 'IN', age: 31 } }, u10: { attributes: {} } });
    });
  });
}
