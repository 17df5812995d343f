import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const EMB = `query($id: ID!, $source: EmbeddingSource) { post(id: $id) { embedding(signal: "click", source: $source) { signal source dim vector modelVersion views } } }`;
const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-6);
const DIM = 4;

for (const provider of PROVIDERS) {
  describe(`embeddings on ${provider}`, () => {
    let h: Harness;
    let click: number;
    const store = async (post: string, source: 'MATURE' | 'MEMER', vector: number[]) => {
      const p = await h.services.db.prisma.post.findUniqueOrThrow({ where: { externalId: post } });
      await h.services.db.prisma.postEmbedding.upsert({
        where: { postId_signalId_source: { postId: p.id, signalId: click, source } },
        create: { postId: p.id, signalId: click, source, dim: vector.length, vector: vectorToBytes(vector), views: 3 },
        update: { vector: vectorToBytes(vector) },
      });
    };
    before(async () => {
      h = await harness(provider);
      click = (await h.services.db.prisma.signal.findUniqueOrThrow({ where: { name: 'click' } })).id;
      await h.ok(`mutation { registerPosts(inputs: [
        {id: "old1", mediaType: VIDEO, tags: ["cats"]}, {id: "old2", mediaType: VIDEO, tags: ["cats", "dogs"]},
        {id: "old3", mediaType: VIDEO, tags: ["dogs"]}, {id: "new", mediaType: VIDEO, tags: ["cats", "birds"]},
        {id: "lonely", mediaType: VIDEO, tags: ["birds"]}]) { id } }`);
    });
    after(() => h.close());

    test('with nothing stored, AUTO is null and only RANDOM exists; RANDOM is deterministic per post and signal', async () => {
      assert.equal((await h.ok(EMB, { id: 'new' })).post.embedding, null);
      const r1 = (await h.ok(EMB, { id: 'new', source: 'RANDOM' })).post.embedding;
      const r2 = (await h.ok(EMB, { id: 'new', source: 'RANDOM' })).post.embedding;
      const other = (await h.ok(EMB, { id: 'old1', source: 'RANDOM' })).post.embedding;
      assert.equal(r1.dim, 32);
      assert.deepEqual(r1.vector, r2.vector);
      assert.notDeepEqual(r1.vector, other.vector);
      const b = await h.ok(`{ post(id: "new") { baselines(signal: "click") { source } } }`);
      assert.deepEqual(b.post.baselines.map((e: { source: string }) => e.source), ['RANDOM']);
    });

    test('GLOBAL_AVG and TAG_AVG come from MATURE embeddings and follow changes to them', async () => {
      await store('old1', 'MATURE', [1, 0, 0, 0]);
      await store('old2', 'MATURE', [0, 1, 0, 0]);
      await store('old3', 'MATURE', [0, 0, 1, 0]);
      const g = (await h.ok(EMB, { id: 'new', source: 'GLOBAL_AVG' })).post.embedding;
      assert.ok(close(g.vector, [1 / 3, 1 / 3, 1 / 3, 0]), String(g.vector));
      // "new" has tags cats (old1, old2 -> [.5, .5, 0, 0]) and birds (no mature posts: skipped).
      const t = (await h.ok(EMB, { id: 'new', source: 'TAG_AVG' })).post.embedding;
      assert.ok(close(t.vector, [0.5, 0.5, 0, 0]), String(t.vector));
      assert.equal((await h.ok(EMB, { id: 'lonely', source: 'TAG_AVG' })).post.embedding, null);
      // AUTO without MEMER: TAG_AVG, else GLOBAL_AVG.
      assert.equal((await h.ok(EMB, { id: 'new' })).post.embedding.source, 'TAG_AVG');
      assert.equal((await h.ok(EMB, { id: 'lonely' })).post.embedding.source, 'GLOBAL_AVG');
      // Cache invalidation: a changed mature embedding changes the averages on the next request.
      await new Promise((r) => setTimeout(r, 5));
      await store('old1', 'MATURE', [3, 0, 0, 0]);
      const g2 = (await h.ok(EMB, { id: 'new', source: 'GLOBAL_AVG' })).post.embedding;
      assert.ok(close(g2.vector, [1, 1 / 3, 1 / 3, 0]), String(g2.vector));
    });

    test('AUTO prefers MEMER for early posts and MATURE once the post crossed M', async () => {
      await store('new', 'MEMER', [0.1, 0.2, 0.3, 0.4]);
      await store('new', 'MATURE', [9, 9, 9, 9]);
      let e = (await h.ok(EMB, { id: 'new' })).post.embedding;
      assert.equal(e.source, 'MEMER', 'no threshold yet: the post is early');
      assert.ok(close(e.vector, [0.1, 0.2, 0.3, 0.4]));
      assert.equal(e.views, 3);
      await h.services.db.prisma.maturityThreshold.create({ data: { signalId: click, mediaType: 'VIDEO', threshold: 2 } });
      e = (await h.ok(EMB, { id: 'new' })).post.embedding;
      assert.equal(e.source, 'MEMER', '0 views < M = 2');
      await h.ok(`mutation { recordInteractions(inputs: [{userId: "a", postId: "new", signal: "click"}, {userId: "b", postId: "new", signal: "click"}]) { recorded } }`);
      e = (await h.ok(EMB, { id: 'new' })).post.embedding;
      assert.equal(e.source, 'MATURE');
      const all = await h.ok(`{ post(id: "new") { baselines(signal: "click") { source } } }`);
      assert.deepEqual(all.post.baselines.map((x: { source: string }) => x.source), ['GLOBAL_AVG', 'TAG_AVG', 'RANDOM']);
    });

    test('100 posts with maturity, embedding and baselines cost a constant number of SQL queries', async () => {
      const inputs = Array.from({ length: 100 }, (_, i) => ({ id: `bulk${i}`, mediaType: 'VIDEO', tags: [i % 2 ? 'cats' : 'dogs'], createdAt: new Date(Date.UTC(2027, 0, 1, 0, i)).toISOString() }));
      await h.ok(`mutation($inputs: [RegisterPostInput!]!) { registerPosts(inputs: $inputs) { id } }`, { inputs });
      const q = `{ posts(first: 100) { edges { node { id maturity(signal: "click") { views status } embedding(signal: "click") { source } baselines(signal: "click") { source } like: maturity(signal: "like") { views } } } } }`;
      await h.ok(q); // warm the baseline cache
      h.queries.length = 0;
      const data = await h.ok(q);
      assert.equal(data.posts.edges.length, 100);
      assert.ok(h.queries.length <= 10, `expected a constant handful of queries, got ${h.queries.length}:\n${h.queries.join('\n')}`);
    });
  });
}
