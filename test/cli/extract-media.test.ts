/**
 * `memer extract DIR --media RAW` on a tiny folder: images, a video, an item without a file and a corrupt file; the
 * feature files it writes, the refused file listed; and a run interrupted after its first item (with a line cut short
 * in its sidecar) that resumes to the same files as a run from scratch.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { readNpy } from '../../src/datasets/npy.js';
import { loadConfig } from '../../src/config/config.js';
import { mediaLimitsOf } from '../../src/domain/media/media.service.js';
import { extractMediaFeatures } from '../../src/ml/extract/media-batch.js';
import { textModelToOnnx } from '../../src/ml/extract/text-model.js';
import { trainTextModel } from '../../src/ml/extract/text-train.js';
import { cli } from '../helpers/cli.js';
import { patternVideo, removeDir, tempDir } from '../media/fixtures.js';

describe('memer extract --media', () => {
  let dir: string;
  let ds: string;
  let raw: string;
  let textModel: string;
  const files = () => Object.fromEntries(['visual', 'audio', 'text'].map((m) => [m, readFileSync(join(ds, 'features', `${m}.npy`))]));

  before(async () => {
    dir = await tempDir('extract-media');
    ds = join(dir, 'ds');
    raw = join(dir, 'raw');
    mkdirSync(ds);
    mkdirSync(raw);
    writeFileSync(join(ds, 'items.csv'), 'item_id,created_at,media_type,tags,text\nred one,1,image,sunset,a red photo\nb,2,image,,\nc,3,video,waves,a test pattern\nd,4,image,,no file here\ne,5,image,,broken\n');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c22' } }).jpeg().toFile(join(raw, `${encodeURIComponent('red one')}.jpg`));
    await sharp({ create: { width: 64, height: 64, channels: 4, background: '#2c28' } }).png().toFile(join(raw, 'b.PNG'));
    await patternVideo(raw, 'c.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'], 2);
    writeFileSync(join(raw, 'e.jpg'), readFileSync(join(raw, `${encodeURIComponent('red one')}.jpg`)).subarray(0, 300));
    const docs = Array.from({ length: 200 }, (_, i) => ['a red photo sunset', 'a test pattern waves', 'no file here', 'broken'][i % 4]);
    textModel = join(dir, 'text-model.onnx');
    writeFileSync(textModel, textModelToOnnx(trainTextModel(docs, { dim: 12, buckets: 512, epochs: 1, minCount: 1, sample: 0 })));
  });
  after(() => removeDir(dir));

  test('writes visual, audio and text rows for the items, all-zero for the missing and the refused, and lists the refused', async () => {
    const r = await cli('extract', ds, '--media', raw, '--text-model', textModel, '--no-ocr', '--jobs', '2', '--json');
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.deepEqual([s.items, s.withMedia, s.failed, s.resumed], [5, 4, 1, 0]);
    assert.deepEqual(s.failures.map((f: { id: string; reason: string }) => [f.id, f.reason]), [['e', 'TRUNCATED']]);
    // b has neither text nor tags: no text row.
    assert.deepEqual(s.extracted, { visual: 3, audio: 1, text: 4 });
    assert.deepEqual(s.dims, { visual: 1280, audio: 128, text: 12 });
    const visual = await readNpy(join(ds, 'features', 'visual.npy'));
    assert.deepEqual(visual.shape, [5, 1280]);
    const row = (i: number) => Array.from(visual.data.subarray(i * 1280, (i + 1) * 1280) as Float32Array);
    assert.ok(row(0).some((x) => x !== 0) && row(2).some((x) => x !== 0));
    assert.ok(row(3).every((x) => x === 0) && row(4).every((x) => x === 0), 'no file, a refused file: missing rows');
    const audio = await readNpy(join(ds, 'features', 'audio.npy'));
    assert.deepEqual(audio.shape, [5, 128]);
    assert.equal(existsSync(join(ds, 'features', '.media-extract.jsonl')), false, 'the sidecar is gone once complete');
  });

  test('an interrupted run resumes (a torn sidecar line dropped) to the same files as a run from scratch', async () => {
    const fromScratch = files();
    const options = { dataset: ds, media: raw, limits: mediaLimitsOf(loadConfig({})), fps: 1, jobs: 1, provider: 'cpu' as const, threads: 0, textModel, ocr: false, dtype: 'auto' as const };
    let items = 0;
    await assert.rejects(
      extractMediaFeatures(options, (stage, done) => {
        if (stage === 'media' && done > 0 && ++items === 1) throw new Error('interrupted');
      }),
      /interrupted/,
    );
    const sidecar = join(ds, 'features', '.media-extract.jsonl');
    assert.equal(readFileSync(sidecar, 'utf8').trim().split('\n').length, 2, 'the header and the one item finished');
    appendFileSync(sidecar, '{"i":2,"v":"f32:AAAA');
    const r = await cli('extract', ds, '--media', raw, '--text-model', textModel, '--no-ocr', '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).resumed, 1);
    assert.deepEqual(files(), fromScratch);
  });
});
