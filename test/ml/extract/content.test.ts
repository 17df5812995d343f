/**
 * The content extractor on real media: per-second pooling of frame features on a generated video whose seconds are
 * known colours, its sound track through the audio embedding (on a worker thread), and the text feature of an image
 * with text in it (OCR) through a text model.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { decodeMedia } from '../../../src/media/decode.js';
import { mediaLimits } from '../../../src/media/limits.js';
import { embedAudio } from '../../../src/ml/extract/audio.js';
import { CONTENT_MODALITIES, ContentExtractor, contentDoc, poolPerSecond } from '../../../src/ml/extract/content.js';
import { embedTexts, textModelToOnnx, type TextModel } from '../../../src/ml/extract/text-model.js';
import { trainTextModel } from '../../../src/ml/extract/text-train.js';
import { VisualExtractor } from '../../../src/ml/extract/visual.js';
import { colourVideo, removeDir, tempDir } from '../../media/fixtures.js';

const limits = mediaLimits();
const close = (a: Float32Array, b: Float32Array, tol: number) => a.every((x, i) => Math.abs(x - b[i]) <= tol);

test('poolPerSecond averages each second, then the seconds (not the frames)', () => {
  const v = (x: number) => Float32Array.of(x, -x);
  // Second 0 has three frames, second 2 one (second 1 none): (mean(1, 2, 3) + 10) / 2 = 6, not (1 + 2 + 3 + 10) / 4.
  assert.deepEqual(Array.from(poolPerSecond([v(1), v(2), v(3), v(10)], [0, 0, 0, 2], 2)), [6, -6]);
  assert.throws(() => poolPerSecond([], [], 2), RangeError);
  assert.deepEqual(contentDoc({ text: 'own words', tags: ['t'] }, 'READ TEXT'), { text: 'own words\nREAD TEXT', tags: ['t'] });
  assert.deepEqual(contentDoc(null, ''), { text: '', tags: [] });
});

describe('ContentExtractor on generated media', () => {
  let dir: string;
  let extractor: ContentExtractor;
  before(async () => {
    dir = await tempDir('content');
    extractor = await ContentExtractor.open({ fps: 2, threads: 1, ocr: false });
  });
  after(async () => {
    await extractor.close();
    await removeDir(dir);
  });

  test('a video of red, green and blue seconds: frames at 2 fps, pooled per second then over the video; its sine through the audio embedding', async () => {
    const path = await colourVideo(dir);
    const want = new Set(CONTENT_MODALITIES);
    const decoded = await decodeMedia({ path }, limits, { ...extractor.decodeOptions(want), expect: ['video'] });
    assert.equal(decoded.kind, 'video');
    if (decoded.kind !== 'video') return;
    assert.deepEqual(Array.from(decoded.frameSecond), [0, 0, 1, 1, 2, 2]);
    // The reference: each second's frames through the visual model on its own, averaged, then the three seconds.
    const visual = await VisualExtractor.open({ threads: 1 });
    const perSecond: Float32Array[] = [];
    for (let s = 0; s < 3; s++) {
      const frames = decoded.frames.filter((_, i) => decoded.frameSecond[i] === s);
      const vs = await visual.embed(frames);
      perSecond.push(Float32Array.from(vs[0], (_, k) => vs.reduce((a, v) => a + v[k], 0) / vs.length));
    }
    await visual.close();
    const expected = Float32Array.from(perSecond[0], (_, k) => (perSecond[0][k] + perSecond[1][k] + perSecond[2][k]) / 3);
    const samples = decoded.audio!.slice();
    const f = await extractor.extract(decoded, { text: 'colours' }, want);
    assert.equal(f.visual!.length, 1280);
    assert.ok(close(f.visual!, expected, 1e-5), 'per-second pooling of the frame features');
    // The seconds differ (the colours do), so the video's vector is none of them.
    assert.ok(!close(perSecond[0], perSecond[2], 1e-3));
    assert.deepEqual(f.info, { kind: 'video', frames: 6, seconds: 3, audio: 'ok' });
    assert.deepEqual(Array.from(f.audio!), Array.from(embedAudio(samples).vector), 'the worker computes the same audio feature');
    assert.equal(f.text, undefined, 'no text model, no text feature');

    // Only what is asked for is computed.
    const visualOnly = await decodeMedia({ path }, limits, { ...extractor.decodeOptions(new Set(['visual'])), expect: ['video'] });
    assert.equal(visualOnly.kind === 'video' && visualOnly.audio, null);
    const g = await extractor.extract(visualOnly, null, new Set(['visual']));
    assert.deepEqual([g.audio, g.info.audio], [undefined, null]);
  });
});

describe('ContentExtractor: text from the post and from the image (OCR) through a text model', () => {
  let extractor: ContentExtractor;
  let model: TextModel;
  before(async () => {
    const words = ['sunset', 'beach', 'waves', 'guitar', 'concert', 'stage', 'kitten', 'puppy', 'garden', 'surfing'];
    const docs = Array.from({ length: 300 }, (_, i) => Array.from({ length: 6 }, (_, k) => words[(i * 3 + k * 7 + (i >> 3)) % words.length]).join(' '));
    model = trainTextModel(docs, { dim: 16, buckets: 2048, epochs: 2, minCount: 1, sample: 0 });
    extractor = await ContentExtractor.open({ threads: 1, textModel: textModelToOnnx(model) });
  });
  after(() => extractor.close());

  test('an image showing words: OCR reads them, and the text feature embeds the post text with them', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1100" height="200"><rect width="100%" height="100%" fill="white"/><text x="40" y="130" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="80" font-weight="bold" fill="#111">GUITAR CONCERT</text></svg>';
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    const want = new Set(CONTENT_MODALITIES);
    const decoded = await decodeMedia(png, limits, { ...extractor.decodeOptions(want), expect: ['image'] });
    const f = await extractor.extract(decoded, { text: 'sunset', tags: ['beach'] }, want);
    assert.deepEqual(f.ocrText.toLowerCase().split(/\s+/), ['guitar', 'concert'], f.ocrText);
    const [expected] = embedTexts(model, [contentDoc({ text: 'sunset', tags: ['beach'] }, f.ocrText)]);
    assert.ok(close(f.text!, expected, 1e-5), 'the text model over the text, the read text and the tags');
    const [own] = embedTexts(model, [{ text: 'sunset', tags: ['beach'] }]);
    assert.ok(!close(f.text!, own, 1e-3), 'the read text moves the feature');
    assert.equal(f.visual!.length, 1280);
  });
});
