/**
 * Raw media through the API, over HTTP (the server memer serve starts): a platform whose features have the built-in
 * extractors' widths (1280-d visual, 128-d audio) is imported and trained; then registerPost with an inline JPEG and a
 * multipart MP4 gives each post a MEMER embedding and a place in recommendations, within the request. A corrupt file,
 * an oversized one (inline and multipart), the wrong kind, and a multipart request without the CSRF header are
 * refused with nothing stored.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { defaults, loadConfig } from '../../src/config/config.js';
import { simulate } from '../../src/datasets/simulator/index.js';
import { importDataset } from '../../src/domain/imports/import.service.js';
import { activateVersion } from '../../src/domain/training/activation.js';
import { trainOnDatabase } from '../../src/domain/training/train.service.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { patternVideo } from '../media/fixtures.js';

const MAX_BYTES = 300_000;
const REGISTER = 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { signal source } } }';
const RECOMMEND = 'query($u: ID!) { recommendations(userId: $u, signal: "click", first: 500, excludeSeen: false) { post { id } source } }';

type Reply = { data?: any; errors?: { message: string; extensions: Record<string, any> }[] };

describe('raw media through registerPost, end to end over HTTP', () => {
  let dir: string;
  let app: RunningApp;
  let key: string;
  let user: string;
  let video: Buffer;

  const gql = async (query: string, variables: Record<string, unknown>): Promise<Reply> => {
    const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as Reply;
  };
  /** A GraphQL multipart request (the spec's operations, map and one file part). */
  const multipart = async (input: Record<string, unknown>, file: Buffer, headers: Record<string, string> = { 'apollo-require-preflight': 'true' }) => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: REGISTER, variables: { i: { ...input, media: { file: null } } } }));
    form.set('map', JSON.stringify({ 0: ['variables.i.media.file'] }));
    form.set('0', new Blob([file], { type: 'video/mp4' }), 'clip.mp4');
    const res = await fetch(app.url, { method: 'POST', headers: { authorization: `Bearer ${key}`, ...headers }, body: form });
    return { status: res.status, body: (await res.json()) as Reply };
  };
  const stored = async (id: string) => (await app.services.db.prisma.post.count({ where: { externalId: id } })) > 0;
  const source = (r: Reply) => r.data.registerPost.servingSources.find((s: { signal: string }) => s.signal === 'click').source;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'memer-media-e2e-'));
    const config = loadConfig({}, {
      databaseUrl: `file:${join(dir, 'memer.db')}`,
      modelDir: join(dir, 'models'),
      port: 0,
      logLevel: 'error',
      executionProvider: 'cpu',
      media: { ...defaults.media, limits: { maxBytes: MAX_BYTES } },
    });
    app = await startApp(config, createLogger('error', () => undefined));
    key = (await app.services.keys.create(['admin'], 'test')).key;
    // The built-in extractors' widths; no text model here, so no text feature from media.
    await simulate(join(dir, 'data'), { seed: 11, users: 150, posts: 200, interactions: 9000, dims: { videoVisual: 1280, imageVisual: 1280, audio: 128, text: 8 }, writeLatent: false });
    await importDataset(app.services.db, app.services.config, join(dir, 'data'));
    const trained = await trainOnDatabase(app.services, { signals: ['click'], fixedThreshold: 6, ffm: { epochs: 3 }, memer: { training: { maxEpochs: 3 } }, seed: 3, version: 'run-a' });
    for (const media of ['VIDEO', 'IMAGE']) assert.ok(trained.versions.some((v) => v.kind === 'MEMER' && v.mediaType === media), JSON.stringify(trained.skipped));
    await activateVersion(app.services, trained.versions.find((v) => v.kind === 'FFM')!.version);
    await app.services.refresh();
    user = (await app.services.db.prisma.userEmbedding.findFirstOrThrow({ select: { user: { select: { externalId: true } } } })).user.externalId;
    video = readFileSync(await patternVideo(dir, 'clip.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'], 2));
  });
  after(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an inline 224x224 JPEG gets a MEMER embedding and a place in recommendations within registerPost', async () => {
    const jpeg = await sharp({ create: { width: 224, height: 224, channels: 3, background: { r: 210, g: 40, b: 30 } } })
      .composite([{ input: Buffer.from('<svg width="224" height="224"><circle cx="112" cy="112" r="60" fill="#fff"/></svg>') }])
      .jpeg()
      .toBuffer();
    const r = await gql(REGISTER, { i: { id: 'photo', mediaType: 'IMAGE', tags: ['t1'], media: { base64: jpeg.toString('base64'), mimeType: 'image/jpeg' } } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(source(r), 'MEMER');
    const features = await app.services.db.prisma.postFeature.findMany({ where: { post: { externalId: 'photo' } }, select: { modality: true, dim: true } });
    assert.deepEqual(features, [{ modality: 'VISUAL', dim: 1280 }]);
    const rec = (await gql(RECOMMEND, { u: user })).data.recommendations;
    assert.equal(rec.find((x: { post: { id: string } }) => x.post.id === 'photo')?.source, 'MEMER');
    // The same file again is the same registration (its digest, not the extracted floats, identifies it).
    const again = await gql(REGISTER, { i: { id: 'photo', mediaType: 'IMAGE', tags: ['t1'], media: { base64: jpeg.toString('base64') } } });
    assert.equal(again.errors, undefined, JSON.stringify(again.errors));
  });

  test('a multipart MP4 upload gets visual and audio features and a MEMER embedding; without the CSRF header it is refused', async () => {
    const refused = await multipart({ id: 'clip-csrf', mediaType: 'VIDEO' }, video, {});
    assert.equal(refused.status, 400);
    assert.match(refused.body.errors![0].message, /apollo-require-preflight/);
    assert.equal(await stored('clip-csrf'), false);

    const { status, body } = await multipart({ id: 'clip', mediaType: 'VIDEO', text: 'a test pattern' }, video);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(source(body), 'MEMER');
    const features = await app.services.db.prisma.postFeature.findMany({ where: { post: { externalId: 'clip' } }, select: { modality: true, dim: true } });
    assert.deepEqual(features.map((f) => `${f.modality} ${f.dim}`).sort(), ['AUDIO 128', 'VISUAL 1280']);
    const rec = (await gql(RECOMMEND, { u: user })).data.recommendations;
    assert.equal(rec.find((x: { post: { id: string } }) => x.post.id === 'clip')?.source, 'MEMER');
  });

  test('a corrupt, an oversized (inline and multipart) or a wrong-kind file is a BAD_USER_INPUT naming the problem, and nothing is stored', async () => {
    const jpeg = await sharp({ create: { width: 224, height: 224, channels: 3, background: '#246' } }).jpeg().toBuffer();
    const cases: [string, Reply, string][] = [];
    cases.push(['cut', await gql(REGISTER, { i: { id: 'cut', mediaType: 'IMAGE', media: { base64: jpeg.subarray(0, jpeg.length >> 1).toString('base64') } } }), 'TRUNCATED']);
    // Noise does not compress: a 400x400 PNG of it is ~480 KB.
    let seed = 7;
    const noise = Buffer.from(Array.from({ length: 400 * 400 * 3 }, () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24));
    const big = await sharp(noise, { raw: { width: 400, height: 400, channels: 3 } }).png().toBuffer();
    assert.ok(big.length > MAX_BYTES);
    cases.push(['big', await gql(REGISTER, { i: { id: 'big', mediaType: 'IMAGE', media: { base64: big.toString('base64') } } }), 'TOO_LARGE']);
    const bigUpload = await multipart({ id: 'big-clip', mediaType: 'VIDEO' }, Buffer.concat([video, Buffer.alloc(MAX_BYTES)]));
    cases.push(['big-clip', bigUpload.body, 'TOO_LARGE']);
    cases.push(['kind', await gql(REGISTER, { i: { id: 'kind', mediaType: 'VIDEO', media: { base64: jpeg.toString('base64') } } }), 'UNSUPPORTED']);
    for (const [id, r, reason] of cases) {
      assert.equal(r.data, null, id);
      const e = r.errors![0];
      assert.equal(e.extensions.code, 'BAD_USER_INPUT', `${id}: ${JSON.stringify(e)}`);
      assert.equal(e.extensions.reason, reason, `${id}: ${e.message}`);
      assert.equal(e.extensions.path, 'input.media');
      assert.equal(await stored(id), false, id);
    }
    assert.match(cases[1][1].errors![0].message, new RegExp(`over the limit of ${MAX_BYTES}`));
    // The server is fine: a good upload still works.
    const ok = await gql(REGISTER, { i: { id: 'after', mediaType: 'IMAGE', media: { base64: jpeg.toString('base64') } } });
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    assert.equal(source(ok), 'MEMER');
  });
});
