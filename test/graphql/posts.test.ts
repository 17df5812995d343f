import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { halvesToFloats } from '../../src/datasets/float16.js';
import { packFloats } from '../../src/lib/packed-floats.js';
import { PROVIDERS } from '../helpers/databases.js';
import { features, harness, type Harness } from '../helpers/harness.js';

const REGISTER = `mutation($input: RegisterPostInput!) { registerPost(input: $input) { id mediaType tags text createdAt } }`;
const REGISTER_MANY = `mutation($inputs: [RegisterPostInput!]!) { registerPosts(inputs: $inputs) { id } }`;

const video = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  mediaType: 'VIDEO',
  tags: ['Comedy', 'music'],
  text: `post ${id}`,
  createdAt: '2026-11-01T10:00:00.000Z',
  features: { visual: features(8), audio: features(4, 2), text: features(3, 3) },
  ...extra,
});

for (const provider of PROVIDERS) {
  describe(`posts on ${provider}`, () => {
    let h: Harness;
    before(async () => (h = await harness(provider)));
    after(() => h.close());

    test('registerPost stores the post, tags (normalised) and features', async () => {
      const data = await h.ok(REGISTER, { input: video('v1') });
      assert.deepEqual(data.registerPost, { id: 'v1', mediaType: 'VIDEO', tags: ['comedy', 'music'], text: 'post v1', createdAt: '2026-11-01T10:00:00.000Z' });
      const rows = await h.services.db.prisma.postFeature.findMany({ where: { post: { externalId: 'v1' } } });
      const summary = rows.map((r) => [r.modality, r.dim, r.dtype, r.data.byteLength]).sort();
      assert.deepEqual(summary, [['AUDIO', 4, 'FLOAT16', 8], ['TEXT', 3, 'FLOAT16', 6], ['VISUAL', 8, 'FLOAT16', 16]]);
    });

    test('registering the same payload again is idempotent; a different payload is a CONFLICT', async () => {
      await h.ok(REGISTER, { input: video('v2') });
      const again = await h.ok(REGISTER, { input: video('v2') });
      assert.equal(again.registerPost.id, 'v2');
      assert.equal(await h.services.db.prisma.post.count({ where: { externalId: 'v2' } }), 1);
      const err = await h.fails('CONFLICT', REGISTER, { input: video('v2', { text: 'edited' }) });
      assert.equal(err.extensions.id, 'v2');
      // Features are part of the payload too.
      await h.fails('CONFLICT', REGISTER, { input: video('v2', { features: { visual: features(8, 9) } }) });
    });

    test('concurrent identical registrations all succeed and store one post', async () => {
      const results = await Promise.all(Array.from({ length: 5 }, () => h.exec(REGISTER, { input: video('race') })));
      for (const r of results) assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      assert.equal(await h.services.db.prisma.post.count({ where: { externalId: 'race' } }), 1);
    });

    test('concurrent uploads are written together, and a conflicting one fails alone', async () => {
      await h.ok(REGISTER, { input: video('taken') });
      const inputs = [video('g1'), video('g2'), video('taken', { text: 'other payload' }), video('g3'), video('g4', { features: { text: [1] } })];
      const results = await Promise.all(inputs.map((input) => h.exec(REGISTER, { input })));
      assert.deepEqual(results.map((r) => r.errors?.[0].extensions.code ?? r.data.registerPost.id), ['g1', 'g2', 'CONFLICT', 'g3', 'BAD_USER_INPUT']);
      assert.equal(await h.services.db.prisma.post.count({ where: { externalId: { in: ['g1', 'g2', 'g3', 'g4'] } } }), 3);
    });

    test('an upload arriving while a group is written goes in the next group, on PostgreSQL possibly beside it: the same id in both stores one post', async () => {
      const uploads = h.services.uploads;
      const first = uploads.registerOne({ id: 'lane-dup', mediaType: 'IMAGE', tags: ['a'] });
      await new Promise((resolve) => setImmediate(resolve)); // the first group has formed and is being written
      const rest = [uploads.registerOne({ id: 'lane-dup', mediaType: 'IMAGE', tags: ['a'] }), uploads.registerOne({ id: 'lane-other', mediaType: 'IMAGE' })];
      const [a, b, c] = await Promise.all([first, ...rest]);
      assert.deepEqual([a.post.id, b.post.id, c.post.id], ['lane-dup', 'lane-dup', 'lane-other']);
      assert.equal(a.post.key, b.post.key);
      assert.deepEqual([a.created, b.created, c.created], [true, false, true]);
      assert.equal(await h.services.db.prisma.post.count({ where: { externalId: 'lane-dup' } }), 1);
    });

    test('sequential uploads through the group commit never stall (no lost wake-up)', async () => {
      for (let i = 0; i < 6; i++) {
        const r = await h.services.uploads.registerOne({ id: `seq${i}`, mediaType: 'IMAGE' });
        assert.equal(r.post.id, `seq${i}`);
      }
    });

    test('cursors of the wrong shape are BAD_USER_INPUT', async () => {
      const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
      for (const after of [b64(['x', 'y']), b64([1e20, 'a']), b64([0, 5])]) {
        await h.fails('BAD_USER_INPUT', `query($a: String) { posts(after: $a) { edges { cursor } } }`, { a: after });
      }
      await h.fails('BAD_USER_INPUT', `query($a: String) { users(after: $a) { edges { cursor } } }`, { a: b64([5]) });
    });

    test('feature vectors are checked against the configured dimensions, finiteness and media type', async () => {
      let err = await h.fails('BAD_USER_INPUT', REGISTER, { input: video('bad1', { features: { visual: features(7) } }) });
      assert.match(err.message, /visual features of a VIDEO post must have 8 values, got 7/);
      assert.equal(err.extensions.path, 'input.features.visual');
      err = await h.fails('BAD_USER_INPUT', REGISTER, { input: { ...video('bad2'), mediaType: 'IMAGE', features: { audio: features(4) } } });
      assert.match(err.message, /audio features are not accepted for IMAGE posts/);
      err = await h.fails('BAD_USER_INPUT', REGISTER, { input: video('bad3', { features: { aux: [1, 1e6] } }) });
      assert.match(err.message, /aux\[1\] must be a finite number/);
      await h.fails('BAD_USER_INPUT', REGISTER, { input: video('has space') });
      await h.fails('BAD_USER_INPUT', REGISTER, { input: video('bad4', { tags: Array.from({ length: 1025 }, (_, i) => `t${i}`) }) });
      assert.equal(await h.services.db.prisma.post.count({ where: { externalId: { startsWith: 'bad' } } }), 0);
    });

    test('feature vectors are JSON arrays of numbers, as variables or inline literals', async () => {
      let err = await h.fails('BAD_USER_INPUT', REGISTER, { input: video('bad5', { features: { text: [1, 'x', 3] } }) });
      assert.match(err.message, /FloatVector must be a list of numbers or a packed "f16:"\/"f32:" base64 string; item 1 is "x"/);
      err = await h.fails('BAD_USER_INPUT', REGISTER, { input: video('bad6', { features: { text: [1, null, 3] } }) });
      assert.match(err.message, /item 1 is null/);
      const inline = `mutation { registerPost(input: { id: "lit", mediaType: VIDEO, features: { text: [0.5, -2, 7], visual: ${JSON.stringify(features(8))} } }) { id } }`;
      await h.ok(inline);
      const stored = await h.services.db.prisma.postFeature.findFirstOrThrow({ where: { post: { externalId: 'lit' }, modality: 'TEXT' } });
      assert.deepEqual([...new Float32Array(halvesToFloats(new Uint16Array(stored.data.buffer.slice(stored.data.byteOffset, stored.data.byteOffset + stored.data.byteLength))))], [0.5, -2, 7]);
      await h.fails('GRAPHQL_VALIDATION_FAILED', `mutation { registerPost(input: { id: "lit2", mediaType: VIDEO, features: { text: [1, "x", 3] } }) { id } }`);
    });

    test('feature vectors may come packed as f16 or f32 base64: stored exactly as the same numbers sent as arrays', async () => {
      const plain = video('pk0');
      const f = plain.features;
      await h.ok(REGISTER, { input: plain });
      await h.ok(REGISTER, { input: video('pk1', { features: { visual: packFloats(f.visual, 'f16'), audio: packFloats(f.audio, 'f32'), text: f.text } }) });
      const inline = `mutation { registerPost(input: { id: "pk2", mediaType: VIDEO, features: { visual: "${packFloats(f.visual, 'f32')}", audio: ${JSON.stringify(f.audio)}, text: "${packFloats(f.text, 'f16')}" } }) { id } }`;
      await h.ok(inline);
      const stored = async (id: string) =>
        (await h.services.db.prisma.postFeature.findMany({ where: { post: { externalId: id } }, orderBy: { modality: 'asc' } })).map((r) => [r.modality, Buffer.from(r.data).toString('hex')]);
      assert.deepEqual(await stored('pk1'), await stored('pk0'));
      assert.deepEqual(await stored('pk2'), await stored('pk0'));
      // The payload hash is over the stored (float16) values: a retry in the other encoding is the same registration.
      const retry = await h.ok(REGISTER, { input: video('pk0', { features: { visual: packFloats(f.visual, 'f16'), audio: packFloats(f.audio, 'f16'), text: packFloats(f.text, 'f32') } }) });
      assert.equal(retry.registerPost.id, 'pk0');
    });

    test('a malformed packed vector is a BAD_USER_INPUT that says what is wrong', async () => {
      const cases: [unknown, RegExp][] = [
        ['f64:AAAA', /must start with "f16:" or "f32:" followed by standard base64/],
        ['f16:AA-A', /must be standard, padded base64 after its "f16:" or "f32:" prefix/],
        ['f16:AAA', /must be standard, padded base64/],
        [' f16:AAAA', /must start with "f16:" or "f32:"/],
        ['f32:AAAAAAA=', /packed f32 vector holds 5 bytes, not a multiple of 4/],
      ];
      for (const [i, [value, message]] of cases.entries()) {
        const err = await h.fails('BAD_USER_INPUT', REGISTER, { input: video(`pkbad${i}`, { features: { text: value } }) });
        assert.match(err.message, message);
      }
      // Well-formed but the wrong length, or not finite: post validation names the field, as for arrays.
      let err = await h.fails('BAD_USER_INPUT', REGISTER, { input: video('pkbad9', { features: { visual: packFloats(features(7), 'f16') } }) });
      assert.match(err.message, /visual features of a VIDEO post must have 8 values, got 7/);
      err = await h.fails('BAD_USER_INPUT', REGISTER, { input: video('pkbad10', { features: { text: packFloats([1, Number.NaN, 2], 'f32') } }) });
      assert.match(err.message, /text\[1\] must be a finite number/);
      assert.equal(await h.services.db.prisma.post.count({ where: { externalId: { startsWith: 'pkbad' } } }), 0);
    });

    test('registerPosts is all or nothing', async () => {
      const err = await h.fails('BAD_USER_INPUT', REGISTER_MANY, { inputs: [video('b1'), video('b2', { features: { text: [1] } }), video('b3')] });
      assert.equal(err.extensions.path, 'inputs[1].features.text');
      await h.fails('CONFLICT', REGISTER_MANY, { inputs: [video('b1'), video('v1', { text: 'changed' })] });
      assert.equal(await h.services.db.prisma.post.count({ where: { externalId: { in: ['b1', 'b2', 'b3'] } } }), 0);
      const ok = await h.ok(REGISTER_MANY, { inputs: [video('b1'), video('b2'), video('v1')] });
      assert.deepEqual(ok.registerPosts.map((p: { id: string }) => p.id), ['b1', 'b2', 'v1']);
    });

    test('post(id) and posts(first, after, filter) page newest first without exposing internal keys', async () => {
      const inputs = Array.from({ length: 7 }, (_, i) => ({
        id: `page${i}`,
        mediaType: i % 2 ? 'IMAGE' : 'VIDEO',
        tags: [i % 3 === 0 ? 'cats' : 'dogs'],
        createdAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
      }));
      await h.ok(REGISTER_MANY, { inputs });
      const q = `query($after: String, $filter: PostFilter) { posts(first: 2, after: $after, filter: $filter) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const { posts } = await h.ok(q, { after, filter: { createdBefore: '2026-02-01T00:00:00Z' } });
        seen.push(...posts.edges.map((e: { node: { id: string } }) => e.node.id));
        if (!posts.pageInfo.hasNextPage) break;
        after = posts.pageInfo.endCursor;
      }
      assert.deepEqual(seen, ['page6', 'page5', 'page4', 'page3', 'page2', 'page1', 'page0']);
      const images = await h.ok(q, { filter: { mediaType: 'IMAGE', tag: 'cats', createdBefore: '2026-02-01T00:00:00Z' } });
      assert.deepEqual(images.posts.edges.map((e: { node: { id: string } }) => e.node.id), ['page3']);
      const one = await h.ok(`{ post(id: "page3") { id mediaType tags } missing: post(id: "nope") { id } }`);
      assert.deepEqual(one, { post: { id: 'page3', mediaType: 'IMAGE', tags: ['cats'] }, missing: null });
      await h.fails('BAD_USER_INPUT', `{ posts(first: 101) { edges { cursor } } }`);
      await h.fails('BAD_USER_INPUT', `{ posts(first: 2, after: "garbage") { edges { cursor } } }`);
    });
  });
}
