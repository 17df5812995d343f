/**
 * registerPost's `media` at the GraphQL layer: the refusals that need no model (widths that do not fit the built-in
 * extractors, extractors off, malformed inputs, a batch's bad item with its index), the precedence of given features
 * over extracted ones, and the installation's text model, which gives posts with and without media a text feature.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { defaults } from '../../src/config/config.js';
import { halvesToFloats } from '../../src/datasets/float16.js';
import { bytesToHalves } from '../../src/lib/vectors.js';
import { textModelToOnnx } from '../../src/ml/extract/text-model.js';
import { trainTextModel } from '../../src/ml/extract/text-train.js';
import { PROVIDERS } from '../helpers/databases.js';
import { harness, type Harness } from '../helpers/harness.js';

const REGISTER = 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id } }';
const REGISTER_MANY = 'mutation($i: [RegisterPostInput!]!) { registerPosts(inputs: $i) { id } }';
const FREE = { featuresConfigured: { video: false, image: false } };

const jpeg = () => sharp({ create: { width: 64, height: 48, channels: 3, background: '#39c' } }).jpeg().toBuffer();
const vector = async (h: Harness, id: string, modality: 'VISUAL' | 'TEXT') => {
  const row = await h.services.db.prisma.postFeature.findFirst({ where: { post: { externalId: id }, modality } });
  return row && halvesToFloats(bytesToHalves(row.data));
};

for (const provider of PROVIDERS) {
  describe(`media refusals on ${provider}`, () => {
    let h: Harness;
    before(async () => (h = await harness(provider)));
    after(() => h.close());

    test('widths that do not fit the built-in extractors refuse the upload before decoding, naming both', async () => {
      // The harness configures 6-d image visual features.
      const e = await h.fails('BAD_USER_INPUT', REGISTER, { i: { id: 'w', mediaType: 'IMAGE', media: { base64: (await jpeg()).toString('base64') } } });
      assert.match(e.message, /built-in visual extractor makes 1280 values, and IMAGE posts take 6 \(set by MEMER_FEATURES_IMAGE\)/);
      assert.deepEqual([e.extensions.path, e.extensions.expected, e.extensions.got], ['input.media', 6, 1280]);
    });

    test('malformed media inputs, and a batch whose second post has a bad file', async () => {
      const none = await h.fails('BAD_USER_INPUT', REGISTER, { i: { id: 'm1', mediaType: 'IMAGE', media: {} } });
      assert.match(none.message, /exactly one of base64/);
      const bad = await h.fails('BAD_USER_INPUT', REGISTER, { i: { id: 'm2', mediaType: 'IMAGE', media: { base64: 'not base64!' } } });
      assert.equal(bad.extensions.path, 'input.media.base64');
      assert.equal(await h.services.db.prisma.post.count(), 0);
    });
  });
}

describe('media with the built-in widths (sqlite)', () => {
  let h: Harness;
  before(async () => (h = await harness('sqlite', FREE)));
  after(() => h.close());

  test('a vector given in features wins over the one the media would give; empty and mislabelled files are refused with their reason', async () => {
    const given = Array.from({ length: 1280 }, (_, i) => ((i % 7) - 3) / 4);
    await h.ok(REGISTER, { i: { id: 'own', mediaType: 'IMAGE', features: { visual: given }, media: { base64: (await jpeg()).toString('base64') } } });
    assert.deepEqual(Array.from((await vector(h, 'own', 'VISUAL'))!), given);
    await h.ok(REGISTER, { i: { id: 'made', mediaType: 'IMAGE', media: { base64: (await jpeg()).toString('base64') } } });
    const made = (await vector(h, 'made', 'VISUAL'))!;
    assert.equal(made.length, 1280);
    assert.ok(made.some((x) => x !== 0));

    const empty = await h.fails('BAD_USER_INPUT', REGISTER, { i: { id: 'e', mediaType: 'IMAGE', media: { base64: '' } } });
    assert.equal(empty.extensions.reason, 'EMPTY');
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
    const batch = await h.exec(REGISTER_MANY, {
      i: [
        { id: 'b0', mediaType: 'IMAGE', media: { base64: png.toString('base64') } },
        { id: 'b1', mediaType: 'IMAGE', media: { base64: Buffer.from('GIF89a but not really').toString('base64'), filename: 'x.gif' } },
      ],
    });
    const e = batch.errors![0];
    assert.equal(e.extensions.code, 'BAD_USER_INPUT');
    assert.equal(e.extensions.index, 1);
    assert.equal(e.extensions.path, 'inputs[1].media');
    assert.match(e.message, /\(x\.gif\)/);
    assert.equal(await h.services.db.prisma.post.count({ where: { externalId: { in: ['b0', 'b1', 'e'] } } }), 0, 'all or nothing');
  });
});

describe('media refused with MEMER_EXTRACTORS=off (sqlite)', () => {
  let h: Harness;
  before(async () => (h = await harness('sqlite', { ...FREE, extractors: 'off' })));
  after(() => h.close());

  test('media are refused, and the extractors set no fallback widths', async () => {
    const e = await h.fails('BAD_USER_INPUT', REGISTER, { i: { id: 'x', mediaType: 'IMAGE', media: { base64: (await jpeg()).toString('base64') } } });
    assert.match(e.message, /MEMER_EXTRACTORS=off/);
    assert.equal(h.services.media.fallback(), null);
  });
});

describe('the installation\'s text model (sqlite)', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'memer-text-model-'));
    const words = ['sunset', 'beach', 'waves', 'guitar', 'concert', 'stage', 'kitten', 'puppy', 'garden'];
    const docs = Array.from({ length: 300 }, (_, i) => Array.from({ length: 6 }, (_, k) => words[(i * 3 + k * 5 + (i >> 2)) % words.length]).join(' '));
    writeFileSync(join(dir, 'text-model.onnx'), textModelToOnnx(trainTextModel(docs, { dim: 16, buckets: 1024, epochs: 2, minCount: 1, sample: 0 })));
    // OCR is off here (tesseract's start and reads belong to the extractor's own tests).
    h = await harness('sqlite', { ...FREE, modelDir: dir, media: { ...defaults.media, ocr: false } });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('its width is the text fallback; posts with and without media get a text feature from their text and tags', async () => {
    assert.equal(h.services.widths.current().features.image.text, 16);
    await h.ok(REGISTER, { i: { id: 'plain', mediaType: 'IMAGE', text: 'sunset at the beach', tags: ['waves'] } });
    await h.ok(REGISTER, { i: { id: 'pic', mediaType: 'IMAGE', text: 'sunset at the beach', tags: ['waves'], media: { base64: (await jpeg()).toString('base64') } } });
    const [plain, pic] = [await vector(h, 'plain', 'TEXT'), await vector(h, 'pic', 'TEXT')];
    assert.equal(plain?.length, 16);
    assert.deepEqual(Array.from(pic!), Array.from(plain!), 'the same text, no OCR: the same vector');
    // A post without text or tags gets none, and a retry of a post whose text vector was computed is the same registration.
    await h.ok(REGISTER, { i: { id: 'mute', mediaType: 'IMAGE' } });
    assert.equal(await vector(h, 'mute', 'TEXT'), null);
    await h.ok(REGISTER, { i: { id: 'plain', mediaType: 'IMAGE', text: 'sunset at the beach', tags: ['waves'] } });
  });
});
