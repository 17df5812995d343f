/**
 * The product end to end, on SQLite and on PostgreSQL: a simulated platform is imported and trained; a brand-new
 * upload gets a MEMER embedding inside registerPost and is recommendable at once; interactions push it past the
 * maturity threshold M; after a retrain its AUTO source switches from MEMER to MATURE.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simulate } from '../../src/datasets/simulator/index.js';
import { importDataset } from '../../src/domain/imports/import.service.js';
import { activateVersion } from '../../src/domain/training/activation.js';
import { trainOnDatabase } from '../../src/domain/training/train.service.js';
import { openDatabase } from '../../src/data/db.js';
import { Services } from '../../src/domain/services.js';
import { createContext } from '../../src/graphql/context.js';
import { createLogger } from '../../src/lib/logger.js';
import { createApollo } from '../../src/server/apollo.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const DIMS = { videoVisual: 24, imageVisual: 28, audio: 8, text: 8 };
const FEATURES = { video: { visual: 24, audio: 8, text: 8, aux: 3 }, image: { visual: 28, text: 8, aux: 3 } };
const M = 6;
const TRAIN = { signals: ['click'], fixedThreshold: M, ffm: { epochs: 4 }, memer: { training: { maxEpochs: 4 } }, seed: 3 };

const REGISTER = `mutation($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { signal source } } }`;
const RECOMMEND = `query($u: ID!) { recommendations(userId: $u, signal: "click", first: 500, excludeSeen: false) { post { id } score source strategy } }`;
const EMBEDDING = `{ post(id: "fresh") { maturity(signal: "click") { status views threshold } embedding(signal: "click") { source vector views } } }`;

async function trainAndActivate(h: Harness, run: string): Promise<void> {
  const trained = await trainOnDatabase(h.services, { ...TRAIN, version: run });
  const ffm = trained.versions.find((v) => v.kind === 'FFM')!;
  assert.ok(trained.versions.some((v) => v.kind === 'MEMER' && v.mediaType === 'VIDEO'), JSON.stringify(trained.skipped));
  await activateVersion(h.services, ffm.version);
}

for (const provider of PROVIDERS) {
  describe(`serving end to end on ${provider}`, () => {
    let h: Harness;
    let dir: string;
    let user: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'memer-e2e-'));
      const modelDir = join(dir, 'models');
      h = await harness(provider, { features: FEATURES, modelDir });
      await simulate(join(dir, 'data'), { seed: 5, users: 200, posts: 240, interactions: 14_000, dims: DIMS, writeLatent: false });
      await importDataset(h.services.db, h.services.config, join(dir, 'data'));
      await trainAndActivate(h, 'run-a');
      user = (await h.services.db.prisma.userEmbedding.findFirstOrThrow({ select: { user: { select: { externalId: true } } } })).user.externalId;
    });
    after(async () => {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a new upload is embedded by MEMER inside registerPost and is recommendable when it returns', async () => {
      const vec = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(s * (i + 1)) * 1000) / 1000);
      const data = await h.ok(REGISTER, { i: { id: 'fresh', mediaType: 'VIDEO', tags: ['t3'], features: { visual: vec(24, 1), audio: vec(8, 2), text: vec(8, 3), aux: [1, 0.5, 2] } } });
      assert.equal(data.registerPost.servingSources.find((s: { signal: string }) => s.signal === 'click').source, 'MEMER');
      const rec = (await h.ok(RECOMMEND, { u: user })).recommendations;
      const fresh = rec.find((r: { post: { id: string } }) => r.post.id === 'fresh');
      assert.ok(fresh, 'the new post is in the index');
      assert.equal(fresh.source, 'MEMER');
      assert.equal(fresh.strategy, 'EMBEDDING');
      // The score is v_user . v_post.
      const emb = (await h.ok(EMBEDDING)).post.embedding;
      const u = await h.services.db.prisma.userEmbedding.findFirstOrThrow({ where: { user: { externalId: user }, signal: { name: 'click' } } });
      const uv = new Float32Array(u.vector.buffer.slice(u.vector.byteOffset, u.vector.byteOffset + u.vector.byteLength));
      const dot = emb.vector.reduce((a: number, x: number, j: number) => a + x * uv[j], 0);
      assert.ok(Math.abs(dot - fresh.score) < 1e-4, `${dot} vs ${fresh.score}`);
      const scores = rec.map((r: { score: number }) => r.score);
      assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
      // Without content features MEMER has nothing to go on: a baseline serves the post, and it is recommendable too.
      const bare = await h.ok(REGISTER, { i: { id: 'bare', mediaType: 'VIDEO', tags: ['t3'] } });
      assert.ok(['TAG_AVG', 'GLOBAL_AVG'].includes(bare.registerPost.servingSources.find((s: { signal: string }) => s.signal === 'click').source));
      const again = (await h.ok(RECOMMEND, { u: user })).recommendations;
      assert.ok(['TAG_AVG', 'GLOBAL_AVG'].includes(again.find((r: { post: { id: string } }) => r.post.id === 'bare')?.source));
    });

    test('recommendations leave out what the user has seen, and users without an embedding get the popularity fallbacks', async () => {
      const q = `query($u: ID!) { recommendations(userId: $u, signal: "click", first: 100) { post { id } strategy } }`;
      const seen = new Set(
        (await h.services.db.prisma.interaction.findMany({ where: { user: { externalId: user } }, select: { post: { select: { externalId: true } } } })).map((i) => i.post.externalId),
      );
      assert.ok(seen.size > 0);
      const recs = (await h.ok(q, { u: user })).recommendations;
      assert.equal(recs.length, 100);
      assert.ok(recs.every((r: { post: { id: string } }) => !seen.has(r.post.id)), 'no post the user interacted with');
      // A user with interactions but no embedding (added after training): popular posts in their recent tags first.
      await h.ok(`mutation($x: [InteractionInput!]!) { recordInteractions(inputs: $x) { recorded } }`, {
        x: [{ userId: 'newcomer', postId: [...seen][0], signal: 'click', label: 1, timestamp: '2026-06-01T00:00:00.000Z' }],
      });
      const fallback = (await h.ok(q, { u: 'newcomer' })).recommendations;
      assert.ok(fallback.length > 0 && fallback[0].strategy === 'POPULAR_IN_TAGS', JSON.stringify(fallback.slice(0, 3)));
      assert.ok(!fallback.some((r: { post: { id: string } }) => r.post.id === [...seen][0]));
      const stranger = (await h.ok(q, { u: 'never-seen-before' })).recommendations;
      assert.ok(stranger.length > 0 && stranger.every((r: { strategy: string }) => r.strategy === 'POPULAR_EARLY'), JSON.stringify(stranger.slice(0, 3)));
    });

    test('a post named twice in one batch, and concurrent retries, are embedded once and correctly', async () => {
      const vec = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.round(Math.cos(s * (i + 2)) * 1000) / 1000);
      const post = (id: string) => ({ id, mediaType: 'VIDEO', features: { visual: vec(24, 4), audio: vec(8, 5), text: vec(8, 6), aux: [0, 1, 1] } });
      await h.ok(`mutation($x: [RegisterPostInput!]!) { registerPosts(inputs: $x) { id } }`, { x: [post('twice'), post('twice')] });
      const results = await Promise.all(['warm', 'same', 'same'].map((id) => h.exec(REGISTER, { i: post(id) })));
      for (const r of results) assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      for (const id of ['twice', 'warm', 'same']) {
        const e = await h.ok(`query($id: ID!) { post(id: $id) { embedding(signal: "click") { source } } }`, { id });
        assert.equal(e.post.embedding.source, 'MEMER', id);
      }
    });

    test('views accrue, the post crosses M, and after a retrain its source switches from MEMER to MATURE', async () => {
      const before = (await h.ok(EMBEDDING)).post;
      assert.deepEqual([before.maturity.status, before.embedding.source, before.embedding.views], ['EARLY', 'MEMER', 0]);
      const users = (await h.services.db.prisma.user.findMany({ take: M + 2, select: { externalId: true } })).map((u) => u.externalId);
      await h.ok(`mutation($x: [InteractionInput!]!) { recordInteractions(inputs: $x) { recorded } }`, {
        x: users.map((u, k) => ({ userId: u, postId: 'fresh', signal: 'click', label: k % 2, timestamp: new Date(Date.UTC(2026, 5, 1, 0, k)).toISOString() })),
      });
      const crossed = (await h.ok(EMBEDDING)).post;
      assert.deepEqual([crossed.maturity.status, crossed.maturity.views, crossed.maturity.threshold], ['MATURE', M + 2, M]);
      assert.equal(crossed.embedding.source, 'MEMER', 'no mature embedding until the backbone is retrained');
      assert.equal(crossed.embedding.views, M + 2, 'the MEMER vector was recomputed with the new freq');
      await trainAndActivate(h, 'run-b');
      const after = (await h.ok(EMBEDDING)).post;
      assert.equal(after.embedding.source, 'MATURE');
      await h.services.refresh();
      const rec = (await h.ok(RECOMMEND, { u: user })).recommendations;
      assert.equal(rec.find((r: { post: { id: string } }) => r.post.id === 'fresh')?.source, 'MATURE');
      const active = await h.ok(`{ models(activeOnly: true) { version } }`);
      assert.ok(active.models.every((m: { version: string }) => m.version.startsWith('run-b')), JSON.stringify(active.models));
      const curve = await h.ok(`{ maturityCurve(signal: "click", mediaType: VIDEO) { threshold views distance } }`);
      assert.equal(curve.maturityCurve.threshold, M);
    });

    test('an upload on one replica reaches the recommendation index of another on its next refresh', async () => {
      const other = new Services(await openDatabase(h.services.config.databaseUrl), h.services.config, createLogger('error', () => undefined));
      try {
        await other.refresh();
        const loaders = other.loaders();
        const before = await other.recommendations.recommend({ userId: user, signal: 'click', first: 500, excludeSeen: false }, loaders);
        assert.ok(!before.some((r) => r.post.id === 'replica'));
        const vec = (n: number) => Array.from({ length: n }, (_, i) => Math.cos(i + 0.5) / 2);
        await h.ok(REGISTER, { i: { id: 'replica', mediaType: 'VIDEO', features: { visual: vec(24), audio: vec(8), text: vec(8), aux: [0, 1, 0] } } });
        await other.refresh();
        const after = await other.recommendations.recommend({ userId: user, signal: 'click', first: 500, excludeSeen: false }, other.loaders());
        assert.equal(after.find((r) => r.post.id === 'replica')?.source, 'MEMER');
      } finally {
        await other.close();
      }
    });

    test('a refresh reads back a row another writer committed under the exact stamp of an upload of its own', async () => {
      const recommend = async () => h.services.recommendations.recommend({ userId: user, signal: 'click', first: 500, excludeSeen: false }, h.services.loaders());
      await recommend(); // the click index is built
      const vec = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + 0.2) / 2);
      await h.ok(REGISTER, { i: { id: 'own', mediaType: 'VIDEO', features: { visual: vec(24), audio: vec(8), text: vec(8), aux: [1, 1, 0] } } });
      const { prisma } = h.services.db;
      const own = await prisma.post.findUniqueOrThrow({ where: { externalId: 'own' }, include: { embeddings: true } });
      const memer = own.embeddings.find((e) => e.source === 'MEMER')!;
      assert.equal(memer.updatedAt.getTime(), own.registeredAt.getTime(), 'an upload stores its post and vectors under one stamp');
      // Another process writes a post and its click vector under that same stamp (to the ms).
      const twin = await prisma.post.create({ data: { externalId: 'twin', mediaType: 'VIDEO', createdAt: own.createdAt, registeredAt: own.registeredAt, payloadHash: 'other' } });
      await prisma.postEmbedding.create({ data: { postId: twin.id, signalId: memer.signalId, source: 'MEMER', dim: memer.dim, vector: memer.vector, views: 0, updatedAt: memer.updatedAt } });
      assert.ok(!(await recommend()).some((r) => r.post.id === 'twin'));
      const before = { ...h.services.index.stats };
      await h.services.index.refresh();
      assert.equal((await recommend()).find((r) => r.post.id === 'twin')?.source, 'MEMER');
      assert.equal(h.services.index.stats.reread - before.reread, 1, 'only the other writer\'s post is read back');
    });

    test('on SQLite a refresh reads nothing while only this process writes, and everything after another connection commits', { skip: provider !== 'sqlite' }, async () => {
      const recommend = async () => h.services.recommendations.recommend({ userId: user, signal: 'click', first: 500, excludeSeen: false }, h.services.loaders());
      await recommend();
      const vec = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.3 + 0.9) / 2);
      // A first request stamps the API key's lastUsedAt through Prisma (at most once a minute): another connection.
      await h.ok(REGISTER, { i: { id: 'quiet0', mediaType: 'VIDEO', features: { visual: vec(24), audio: vec(8), text: vec(8), aux: [0, 1, 1] } } });
      await h.services.refresh();
      await h.ok(REGISTER, { i: { id: 'quiet', mediaType: 'VIDEO', features: { visual: vec(24), audio: vec(8), text: vec(8), aux: [0, 0, 1] } } });
      h.queries.length = 0;
      await h.services.refresh();
      assert.deepEqual(h.queries, [], 'no other connection committed: the refresh only moves its windows on');
      assert.equal((await recommend()).find((r) => r.post.id === 'quiet')?.source, 'MEMER');
      // Another connection (Prisma's, like another process) commits a post and its click vector: the next refresh reads.
      const { prisma } = h.services.db;
      const quiet = await prisma.post.findUniqueOrThrow({ where: { externalId: 'quiet' }, include: { embeddings: true } });
      const memer = quiet.embeddings.find((e) => e.source === 'MEMER')!;
      const now = new Date();
      const other = await prisma.post.create({ data: { externalId: 'loud', mediaType: 'VIDEO', createdAt: now, registeredAt: now, payloadHash: 'other' } });
      await prisma.postEmbedding.create({ data: { postId: other.id, signalId: memer.signalId, source: 'MEMER', dim: memer.dim, vector: memer.vector, views: 0, updatedAt: now } });
      h.queries.length = 0;
      await h.services.refresh();
      assert.ok(h.queries.length > 0);
      assert.equal((await recommend()).find((r) => r.post.id === 'loud')?.source, 'MEMER');
    });

    test('a fresh upload costs one write transaction: its fields come from what registerPost wrote', async () => {
      // Production refresh interval (catalogue and baseline caches warm), queries counted.
      const queries: string[] = [];
      const config = { ...h.services.config, refreshMs: 60_000 };
      const services = new Services(await openDatabase(config.databaseUrl, { onQuery: (q) => queries.push(q) }), config, createLogger('error', () => undefined));
      const apollo = await createApollo(services, createLogger('error', () => undefined));
      const run = async (query: string, variables: Record<string, unknown>) => {
        const res = await apollo.executeOperation({ query, variables }, { contextValue: await createContext(services, `Bearer ${h.keys.admin}`) });
        assert.ok(res.body.kind === 'single' && !res.body.singleResult.errors, JSON.stringify(res.body));
        return res.body.kind === 'single' ? (res.body.singleResult.data as any) : null;
      };
      const fields = `id servingSources { signal source } embedding(signal: "click") { source vector modelVersion views } maturity(signal: "click") { status views threshold }`;
      const vec = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(s * (i + 3)) * 1000) / 1000);
      const input = (id: string) => ({ id, mediaType: 'VIDEO', tags: ['t3'], features: { visual: vec(24, 7), audio: vec(8, 8), text: vec(8, 9), aux: [1, 0, 1] } });
      try {
        await services.refresh(); // loads the active models, as a starting server does
        await services.index.warm();
        await run(`mutation($i: RegisterPostInput!) { registerPost(input: $i) { ${fields} } }`, { i: input('warm-caches') });
        queries.length = 0;
        const written = (await run(`mutation($i: RegisterPostInput!) { registerPost(input: $i) { ${fields} } }`, { i: input('counted') })).registerPost;
        // Reads: the existing-id check and the active-version check inside the write, nothing per field; the rest
        // inserts the post, its tag and features and its MEMER vector.
        const reads = queries.filter((q) => /^\s*SELECT/i.test(q));
        assert.equal(reads.length, 2, reads.join('\n'));
        const writes = queries.filter((q) => /^\s*(INSERT|WITH\b[\s\S]*\bINSERT\b)/i.test(q)); // PostgreSQL: one WITH .. INSERT for all
        assert.ok(writes.length >= 1 && writes.length <= 7, writes.join('\n'));
        assert.equal(queries.length - reads.length - writes.length <= 2, true, queries.join('\n')); // BEGIN, COMMIT
        // The index holds this test's two uploads already, and the build loaded everything older: a refresh finds
        // the uploads' rows (each a post and a click vector) and skips them instead of reading anything back.
        const before = { ...services.index.stats };
        await services.index.refresh();
        assert.ok(services.index.stats.skippedSeen - before.skippedSeen >= 4, JSON.stringify([before, services.index.stats]));
        assert.equal(services.index.stats.reread - before.reread, 0);
        const rec = await services.recommendations.recommend({ userId: user, signal: 'click', first: 500, excludeSeen: false }, services.loaders());
        assert.equal(rec.find((r) => r.post.id === 'counted')?.source, 'MEMER');
        // The primed answer is what a later read of the database gives.
        const read = (await run(`query($id: ID!) { post(id: $id) { ${fields} } }`, { id: 'counted' })).post;
        assert.deepEqual(written, read);
        assert.equal(written.embedding.source, 'MEMER');
        assert.equal(written.maturity.status, 'EARLY');
      } finally {
        await apollo.stop();
        await services.close();
      }
    });

    test('activateModel switches runs atomically; a broken version leaves the active one serving', async () => {
      const ACTIVATE = `mutation($v: String!) { activateModel(version: $v) { signal ffm memer maturePosts } }`;
      await h.fails('NOT_FOUND', ACTIVATE, { v: 'no-such-version' });
      await h.fails('FORBIDDEN', ACTIVATE, { v: 'run-a-ffm-click' }, h.keys.write);
      const broken = join(h.services.config.modelDir, 'broken.onnx');
      writeFileSync(broken, 'not an onnx file');
      const click = await h.services.db.prisma.signal.findUniqueOrThrow({ where: { name: 'click' } });
      await h.services.db.prisma.modelVersion.create({
        data: { version: 'broken-click-video', kind: 'MEMER', signalId: click.id, mediaType: 'VIDEO', status: 'READY', artefact: 'broken.onnx', metrics: JSON.stringify({ backbone: 'run-a-ffm-click' }) },
      });
      const activeBefore = await h.ok(`{ models(activeOnly: true) { version } }`);
      await h.fails('MODEL_UNAVAILABLE', ACTIVATE, { v: 'broken-click-video' });
      assert.deepEqual(await h.ok(`{ models(activeOnly: true) { version } }`), activeBefore);
      await h.services.db.prisma.modelVersion.delete({ where: { version: 'broken-click-video' } });
      const done = (await h.ok(ACTIVATE, { v: 'run-a-ffm-click' })).activateModel;
      assert.equal(done.ffm, 'run-a-ffm-click');
      assert.ok(done.memer.every((v: string) => v.startsWith('run-a')) && done.memer.length > 0);
      const active = await h.ok(`{ models(activeOnly: true) { version } }`);
      assert.ok(active.models.every((m: { version: string }) => m.version.startsWith('run-a')), JSON.stringify(active.models));
      const snapshot = h.services.registry.current();
      assert.ok([...snapshot.memer.values()].every((m) => m.version.startsWith('run-a')));
      // Two activations of one signal at once: one run ends up active, whole.
      const both = await Promise.all(['run-a-ffm-click', 'run-b-ffm-click'].map((v) => h.exec(ACTIVATE, { v })));
      for (const r of both) assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      const after = (await h.ok(`{ models(activeOnly: true) { version } }`)).models.map((m: { version: string }) => m.version);
      const runs = new Set(after.map((v: string) => v.slice(0, 'run-a'.length)));
      assert.equal(runs.size, 1, JSON.stringify(after));
      assert.equal(after.filter((v: string) => v.includes('-ffm-')).length, 1, JSON.stringify(after));
    });
  });
}
