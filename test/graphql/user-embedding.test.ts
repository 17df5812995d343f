/**
 * A ranking stack that scores every new post itself: User.embedding(signal) is the vector recommendations rank with,
 * posts(filter: {signal, stage: EARLY}) pages through every early-stage candidate, and S = v_user . v_post computed
 * from the two is recommendations' score. MEMER_MAX_RECOMMENDATIONS raises recommendations' bound on `first`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const M = 2;
const USER = `query($id: ID!, $signal: String!) { user(id: $id) { id embedding(signal: $signal) { signal dim vector modelVersion computedAt } } }`;
const PAGE = `query($after: String, $stage: MaturityStatus, $signal: String) {
  posts(first: 7, after: $after, filter: {signal: $signal, stage: $stage}) {
    edges { node { id embedding(signal: "click") { source vector } } } pageInfo { hasNextPage endCursor } } }`;
const RECOMMEND = `query($first: Int!, $stage: MaturityStatus) { recommendations(userId: "ranked", signal: "click", first: $first, stage: $stage, excludeSeen: false) { post { id } score strategy } }`;

const USER_VECTOR = [0.5, -1, 0.25, 2];
const EARLY = Array.from({ length: 23 }, (_, i) => `new-${String(i).padStart(2, '0')}`);
const MATURE = Array.from({ length: 12 }, (_, i) => `old-${String(i).padStart(2, '0')}`);
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

for (const provider of PROVIDERS) {
  describe(`User.embedding and early-stage candidates on ${provider}`, () => {
    let h: Harness;
    before(async () => {
      h = await harness(provider);
      const { prisma } = h.services.db;
      const tag = (i: number) => [`t${i % 3}`];
      await h.ok(`mutation($x: [RegisterPostInput!]!) { registerPosts(inputs: $x) { id } }`, {
        x: [...MATURE.map((id, i) => ({ id, mediaType: 'VIDEO', tags: tag(i), createdAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() })),
          ...EARLY.map((id, i) => ({ id, mediaType: i % 4 ? 'VIDEO' : 'IMAGE', tags: tag(i), createdAt: new Date(Date.UTC(2026, 5, 1 + i)).toISOString() }))],
      });
      await h.ok(`mutation($x: [InteractionInput!]!) { recordInteractions(inputs: $x) { recorded } }`, {
        x: MATURE.flatMap((id) => Array.from({ length: M }, (_, k) => ({ userId: `crowd${k}`, postId: id, signal: 'click' }))),
      });
      const click = (await prisma.signal.findUniqueOrThrow({ where: { name: 'click' } })).id;
      for (const mediaType of ['VIDEO', 'IMAGE'] as const) await prisma.maturityThreshold.create({ data: { signalId: click, mediaType, threshold: M } });
      const ffm = await prisma.modelVersion.create({ data: { version: 'run-x-ffm-click', kind: 'FFM', signalId: click, status: 'READY', artefact: 'run-x/click', active: true } });
      const posts = await prisma.post.findMany({ where: { externalId: { in: MATURE } }, select: { id: true } });
      await prisma.postEmbedding.createMany({
        data: posts.map((p, i) => ({ postId: p.id, signalId: click, source: 'MATURE' as const, modelVersionId: ffm.id, dim: 4, vector: vectorToBytes([Math.sin(i), Math.cos(i), i / 10, 1 - i / 12]), views: M })),
      });
      await h.ok(`mutation { upsertUsers(inputs: [{id: "ranked"}, {id: "newcomer"}]) { id } }`);
      const ranked = await prisma.user.findUniqueOrThrow({ where: { externalId: 'ranked' } });
      await prisma.userEmbedding.create({ data: { userId: ranked.id, signalId: click, modelVersionId: ffm.id, dim: 4, vector: vectorToBytes(USER_VECTOR) } });
      h.services.baselines.invalidate(click);
    });
    after(() => h.close());

    test("User.embedding is the user's served vector; null without one; an unknown signal is a typed error", async () => {
      const u = (await h.ok(USER, { id: 'ranked', signal: 'click' })).user;
      assert.deepEqual({ ...u.embedding, computedAt: typeof u.embedding.computedAt }, { signal: 'click', dim: 4, vector: USER_VECTOR, modelVersion: 'run-x-ffm-click', computedAt: 'string' });
      assert.equal((await h.ok(USER, { id: 'ranked', signal: 'like' })).user.embedding, null, 'no embedding for that signal');
      assert.equal((await h.ok(USER, { id: 'newcomer', signal: 'click' })).user.embedding, null, 'a user outside the last training run');
      assert.equal((await h.ok(USER, { id: 'nobody', signal: 'click' })).user, null);
      const e = await h.fails('BAD_USER_INPUT', USER, { id: 'ranked', signal: 'no-such-signal' });
      assert.match(e.message, /unknown signal "no-such-signal"/);
    });

    test('a page of users with their embeddings costs a constant handful of queries', async () => {
      await h.ok(`mutation($x: [UserInput!]!) { upsertUsers(inputs: $x) { id } }`, { x: Array.from({ length: 60 }, (_, i) => ({ id: `bulk${i}` })) });
      const q = `{ users(first: 100) { edges { node { id click: embedding(signal: "click") { dim } like: embedding(signal: "like") { dim } } } } }`;
      await h.ok(q);
      h.queries.length = 0;
      const data = await h.ok(q);
      assert.ok(data.users.edges.length > 60);
      assert.ok(h.queries.length <= 6, `expected a constant handful of queries, got ${h.queries.length}`);
    });

    test('posts(filter: {signal, stage: EARLY}) pages through every early-stage post; S computed from the two vectors is the served score', async () => {
      const seen: { id: string; vector: number[] }[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: any = (await h.ok(PAGE, { after, stage: 'EARLY', signal: 'click' })).posts;
        for (const e of page.edges) seen.push({ id: e.node.id, vector: e.node.embedding.vector });
        assert.ok(page.edges.every((e: any) => e.node.embedding.source !== 'MATURE'));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
        pages++;
      } while (after);
      assert.equal(pages, Math.ceil(EARLY.length / 7));
      assert.deepEqual(seen.map((s) => s.id), [...EARLY].reverse(), 'every early post once, newest first');
      const mature: any = (await h.ok(PAGE, { after: null, stage: 'MATURE', signal: 'click' })).posts;
      assert.deepEqual(mature.edges.map((e: any) => e.node.id), [...MATURE].reverse().slice(0, 7));
      assert.ok(mature.edges.every((e: any) => e.node.embedding.source === 'MATURE'));

      // The ranking stack's own scores agree with the service's.
      const user = (await h.ok(USER, { id: 'ranked', signal: 'click' })).user.embedding.vector as number[];
      const mine = seen.map((s) => ({ id: s.id, score: dot(user, s.vector) })).sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : -1));
      const served = (await h.ok(RECOMMEND, { first: 100, stage: 'EARLY' })).recommendations as { post: { id: string }; score: number; strategy: string }[];
      const ranked = served.filter((r) => r.strategy === 'EMBEDDING');
      assert.equal(ranked.length, EARLY.length);
      for (const r of ranked) {
        const s = mine.find((m) => m.id === r.post.id)!;
        assert.ok(Math.abs(s.score - r.score) < 1e-5, `${r.post.id}: ${s.score} vs ${r.score}`);
      }
      assert.deepEqual(new Set(ranked.map((r) => r.post.id)), new Set(mine.map((m) => m.id)));
    });

    test('filter.stage needs filter.signal; MATURE is empty before any threshold; the signal alone narrows to its media types', async () => {
      await h.fails('BAD_USER_INPUT', PAGE, { after: null, stage: 'EARLY', signal: null });
      // "like" has no threshold yet: nothing is mature, every post it applies to is early.
      assert.deepEqual((await h.ok(PAGE, { after: null, stage: 'MATURE', signal: 'like' })).posts.edges, []);
      const early = (await h.ok(PAGE, { after: null, stage: 'EARLY', signal: 'like' })).posts;
      assert.equal(early.edges.length, 7);
      const videoPlay = (await h.ok(`{ posts(first: 100, filter: {signal: "video_play"}) { edges { node { mediaType } } } }`)).posts.edges;
      assert.ok(videoPlay.length > 0 && videoPlay.every((e: any) => e.node.mediaType === 'VIDEO'), 'video_play applies to videos only');
    });

    test('recommendations: first is bounded by MEMER_MAX_RECOMMENDATIONS (500 by default)', async () => {
      const e = await h.fails('BAD_USER_INPUT', RECOMMEND, { first: 501, stage: null });
      assert.match(e.message, /between 1 and 500 \(MEMER_MAX_RECOMMENDATIONS\)/);
      assert.equal(loadConfig({ MEMER_MAX_RECOMMENDATIONS: '100000' }).maxRecommendations, 100_000);
      const wide = await harness(provider, { maxRecommendations: 5000 });
      try {
        await wide.ok(`mutation { registerPosts(inputs: [{id: "a", mediaType: VIDEO}]) { id } }`);
        assert.deepEqual((await wide.ok(`{ recommendations(userId: "x", signal: "click", first: 5000) { post { id } } }`)).recommendations, []);
        await wide.fails('BAD_USER_INPUT', `{ recommendations(userId: "x", signal: "click", first: 5001) { post { id } } }`);
      } finally {
        await wide.close();
      }
    });
  });
}
