/**
 * Baseline arms on a real database (both providers): every arm's ranking agrees with Post.embedding(signal, source)
 * for the source it names; the arm's index follows uploads (put), other processes' writes (refresh), and is
 * disposed when no running experiment needs it; served impressions reach the database through the exposure log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bucketOf } from '../../src/domain/experiments/assignment.js';
import { SOURCE_CODES, unpackPosts } from '../../src/domain/experiments/experiment.types.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const M = 2;
const NAME = 'three-arms';
const MATURE = ['m-a0', 'm-a1', 'm-b0', 'm-b1'];
const tags = (id: string) => [id.includes('-a') || id.endsWith('a') ? 'alpha' : 'beta'];
const RECOMMEND = `query($u: ID!) { recommendations(userId: $u, signal: "click", first: 50, stage: EARLY) {
  post { id tags tag: embedding(signal: "click", source: TAG_AVG) { vector } global: embedding(signal: "click", source: GLOBAL_AVG) { vector }
    random: embedding(signal: "click", source: RANDOM) { vector } memer: embedding(signal: "click", source: MEMER) { vector } }
  score source experiment arm } }`;
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const ARMS = [
  { name: 'tag', share: 0.25, source: 'TAG_AVG' },
  { name: 'global', share: 0.25, source: 'GLOBAL_AVG' },
  { name: 'random', share: 0.25, source: 'RANDOM' },
  { name: 'memer', share: 0.25, source: 'MEMER' },
];
/** The first user id whose bucket falls into each arm. */
const userIn = (arm: number) => {
  for (let i = 0; ; i++) if (Math.floor(bucketOf(NAME, `user${i}`) * 4) === arm) return `user${i}`;
};

for (const provider of PROVIDERS) {
  describe(`experiment arms ranked by baselines on ${provider}`, () => {
    let h: Harness;
    let click: number;
    const users = ARMS.map((_, i) => userIn(i));
    const userVector = [0.3, -0.2, 0.9, 0.4];

    const memerRow = async (id: string, vector: number[]) => {
      const { prisma } = h.services.db;
      const post = await prisma.post.findUniqueOrThrow({ where: { externalId: id } });
      await prisma.postEmbedding.create({ data: { postId: post.id, signalId: click, source: 'MEMER', dim: 4, vector: vectorToBytes(vector) } });
      return post.id;
    };
    const recommend = async (arm: number) => (await h.ok(RECOMMEND, { u: users[arm] })).recommendations as {
      post: { id: string; tag: { vector: number[] } | null; global: { vector: number[] } | null; random: { vector: number[] }; memer: { vector: number[] } | null };
      score: number;
      source: string;
      experiment: string;
      arm: string;
    }[];
    /** Every result scores as v_user . Post.embedding(signal, source) of the source it names. */
    const consistent = async (arm: number) => {
      const recs = await recommend(arm);
      for (const r of recs) {
        assert.equal(r.arm, ARMS[arm].name);
        const v = { TAG_AVG: r.post.tag, GLOBAL_AVG: r.post.global, RANDOM: r.post.random, MEMER: r.post.memer }[r.source as 'MEMER'];
        assert.ok(v, `${ARMS[arm].name}: ${r.post.id} from ${r.source}`);
        assert.ok(Math.abs(r.score - dot(userVector, v.vector)) < 1e-5, `${ARMS[arm].name}: ${r.post.id} ${r.source} ${r.score}`);
      }
      return recs;
    };

    before(async () => {
      h = await harness(provider);
      await h.ok(`mutation($x: [RegisterPostInput!]!) { registerPosts(inputs: $x) { id } }`, {
        x: [...MATURE, 'e-a', 'e-b', 'e-n'].map((id) => ({ id, mediaType: 'VIDEO', tags: id === 'e-n' ? ['unseen-tag'] : tags(id) })),
      });
      await h.ok(`mutation($x: [InteractionInput!]!) { recordInteractions(inputs: $x) { recorded } }`, {
        x: MATURE.flatMap((id) => Array.from({ length: M }, (_, k) => ({ userId: `crowd${k}`, postId: id, signal: 'click' }))),
      });
      const { prisma } = h.services.db;
      click = (await prisma.signal.findUniqueOrThrow({ where: { name: 'click' } })).id;
      for (const mediaType of ['VIDEO', 'IMAGE'] as const) await prisma.maturityThreshold.create({ data: { signalId: click, mediaType, threshold: M } });
      const posts = await prisma.post.findMany({ where: { externalId: { in: MATURE } } });
      await prisma.postEmbedding.createMany({ data: posts.map((p, i) => ({ postId: p.id, signalId: click, source: 'MATURE' as const, dim: 4, vector: vectorToBytes([i, 1, i % 2, -1]), views: M })) });
      await memerRow('e-a', [1, 2, 3, 4]);
      await memerRow('e-b', [-1, 0, 2, 1]);
      await memerRow('e-n', [0, 0, 1, 0]);
      await prisma.user.createMany({ data: users.map((externalId) => ({ externalId })) });
      for (const u of await prisma.user.findMany({ where: { externalId: { in: users } } })) {
        await prisma.userEmbedding.create({ data: { userId: u.id, signalId: click, dim: 4, vector: vectorToBytes(userVector) } });
      }
      h.services.baselines.invalidate(click);
      await h.ok(`mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { name } }`, { i: { name: NAME, signal: 'click', arms: ARMS } });
    });
    after(() => h.close());

    test('each arm ranks early posts by its source, and the fallbacks of TAG_AVG hold', async () => {
      const byArm: Awaited<ReturnType<typeof consistent>>[] = [];
      for (let arm = 0; arm < ARMS.length; arm++) byArm.push(await consistent(arm));
      const sources = (arm: number) => Object.fromEntries(byArm[arm].map((r) => [r.post.id, r.source]));
      // e-n's tag has no mature post: TAG_AVG falls back to the global average for it.
      assert.deepEqual(sources(0), { 'e-a': 'TAG_AVG', 'e-b': 'TAG_AVG', 'e-n': 'GLOBAL_AVG' });
      assert.deepEqual(sources(1), { 'e-a': 'GLOBAL_AVG', 'e-b': 'GLOBAL_AVG', 'e-n': 'GLOBAL_AVG' });
      assert.deepEqual(sources(2), { 'e-a': 'RANDOM', 'e-b': 'RANDOM', 'e-n': 'RANDOM' });
      assert.deepEqual(sources(3), { 'e-a': 'MEMER', 'e-b': 'MEMER', 'e-n': 'MEMER' });
      const built = (await h.services.index.built()).find((b) => b.signalKey === click)!;
      assert.deepEqual(built.variants.map((v) => v.source).sort(), ['GLOBAL_AVG', 'RANDOM', 'TAG_AVG']);
    });

    test('an upload reaches every arm at once, and an upload with a MEMER vector is overridden by the baselines', async () => {
      await h.ok(`mutation { registerPost(input: {id: "e-up", mediaType: VIDEO, tags: ["beta"]}) { id } }`);
      // No active model: AUTO serves it by its tag average, as the TAG_AVG arm does; the others by their own.
      for (let arm = 0; arm < ARMS.length; arm++) {
        const recs = await consistent(arm);
        assert.equal(recs.find((r) => r.post.id === 'e-up')?.source, ['TAG_AVG', 'GLOBAL_AVG', 'RANDOM', 'TAG_AVG'][arm], ARMS[arm].name);
      }
      // A MEMER vector put by this process (an upload with a model, or a refresh of the vector): read its tags itself.
      const key = await memerRow('e-up', [2, 2, 2, 2]);
      await h.services.index.put(click, key, 'VIDEO', 'MEMER', Float32Array.from([2, 2, 2, 2]));
      for (let arm = 0; arm < ARMS.length; arm++) {
        const recs = await consistent(arm);
        assert.equal(recs.find((r) => r.post.id === 'e-up')?.source, ['TAG_AVG', 'GLOBAL_AVG', 'RANDOM', 'MEMER'][arm], ARMS[arm].name);
      }
    });

    test("another process's post reaches the arms on refresh", async () => {
      const { prisma } = h.services.db;
      const post = await prisma.post.create({ data: { externalId: 'e-other', mediaType: 'VIDEO', createdAt: new Date(), payloadHash: 'x', tags: { create: [{ tag: 'alpha' }] } } });
      await prisma.postEmbedding.create({ data: { postId: post.id, signalId: click, source: 'MEMER', dim: 4, vector: vectorToBytes([0, 3, 0, 0]) } });
      await h.services.refresh();
      for (let arm = 0; arm < ARMS.length; arm++) {
        const recs = await consistent(arm);
        assert.equal(recs.find((r) => r.post.id === 'e-other')?.source, ['TAG_AVG', 'GLOBAL_AVG', 'RANDOM', 'MEMER'][arm], ARMS[arm].name);
      }
    });

    test('served impressions are written by the exposure log; stopping disposes the arm indexes', async () => {
      const { prisma } = h.services.db;
      const experiment = await prisma.experiment.findUniqueOrThrow({ where: { name: NAME } });
      await h.services.experiments.exposures.flush();
      const rows = await prisma.experimentExposure.findMany({ where: { experimentId: experiment.id }, orderBy: { id: 'asc' } });
      assert.ok(rows.length > 0 && rows.every((r) => r.origin === 'SERVED' && r.position === 0));
      assert.deepEqual([...new Set(rows.map((r) => r.arm))].sort(), [0, 1, 2, 3]);
      for (const r of rows) assert.equal(r.userExternalId, users[r.arm]);
      // One row per response: its posts in order, with their sources.
      const first = rows.find((r) => r.arm === 0)!;
      const posts = unpackPosts(first.posts);
      assert.ok(posts.length >= 3 && posts.length === first.sources.length);
      const names = new Map((await prisma.post.findMany({ where: { id: { in: posts } } })).map((p) => [p.id, p.externalId]));
      assert.deepEqual(posts.map((k) => names.get(k)).sort(), ['e-a', 'e-b', 'e-n']);
      assert.ok([...first.sources].every((code) => SOURCE_CODES[code] === 'TAG_AVG' || SOURCE_CODES[code] === 'GLOBAL_AVG'));
      await h.ok(`mutation { stopExperiment(name: "${NAME}") { status } }`);
      await new Promise((r) => setTimeout(r, 10));
      const built = (await h.services.index.built()).find((b) => b.signalKey === click)!;
      assert.deepEqual(built.variants, []);
    });
  });
}
