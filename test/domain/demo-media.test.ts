/**
 * The demo's real media (src/domain/demo/demo-media.ts), on a small simulated platform: the files are made under the
 * folder and decode, the built-in extractors' features (through the MediaService, registerPost's media path) have
 * their widths, are finite and replace the dataset's rows, and the premise holds: posts of one genre are closer in
 * visual (and audio) feature space than posts of different genres.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { featureRow } from '../../src/datasets/features.js';
import { readDataset } from '../../src/datasets/read.js';
import { simulate } from '../../src/datasets/simulator/index.js';
import type { Dataset } from '../../src/datasets/types.js';
import { demoGenres, primaryTag, renderFile, withDemoMedia, type DemoMedia, type ExtractedFile } from '../../src/domain/demo/demo-media.js';
import { MediaService, mediaLimitsOf } from '../../src/domain/media/media.service.js';
import { createLogger } from '../../src/lib/logger.js';
import { decodeMedia } from '../../src/media/decode.js';

const VISUAL = 1280;
const AUDIO = 128;
const GENRES = 3;

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let k = 0; k < a.length; k++) (ab += a[k] * b[k]), (aa += a[k] * a[k]), (bb += b[k] * b[k]);
  return ab / Math.sqrt(aa * bb);
}

/** Mean cosine of the pairs of the same genre and of different genres. */
function separation(files: readonly ExtractedFile[], key: 'visual' | 'audio'): { same: number; different: number } {
  const sums = { same: [0, 0], different: [0, 0] };
  for (let a = 0; a < files.length; a++) {
    for (let b = a + 1; b < files.length; b++) {
      const s = sums[files[a].look.genre === files[b].look.genre ? 'same' : 'different'];
      s[0] += cosine(files[a][key]!, files[b][key]!);
      s[1]++;
    }
  }
  assert.ok(sums.same[1] > 0 && sums.different[1] > 0, 'pairs of both kinds');
  return { same: sums.same[0] / sums.same[1], different: sums.different[0] / sums.different[1] };
}

describe('the demo media', () => {
  const root = mkdtempSync(join(tmpdir(), 'memer-demo-media-'));
  const config = loadConfig({}, { modelDir: join(root, 'models'), extractors: 'builtin', ortThreads: 2 });
  const media = new MediaService(config, createLogger('error', () => undefined), () => ({ features: { video: { visual: VISUAL, audio: AUDIO, text: 8 }, image: { visual: VISUAL, text: 8 } } }));
  let ds: Dataset;
  let simulated: Dataset;
  let made: DemoMedia;
  let files: ExtractedFile[];

  before(async () => {
    const dir = join(root, 'platform');
    await simulate(dir, { seed: 5, users: 40, posts: 160, interactions: 1500, tags: 12, dims: { videoVisual: VISUAL, imageVisual: VISUAL, audio: AUDIO, text: 8 }, writeLatent: false });
    ds = await readDataset(dir);
    simulated = await readDataset(dir);
    made = await withDemoMedia(ds, join(root, 'demo-media'), media, { seed: 5, genres: GENRES, imagesPerGenre: 4, videosPerGenre: 1, jobs: 2 });
    files = [...made.posts.values(), ...made.tryFiles];
  });
  after(async () => {
    await media.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('genres are the most frequent first tags; each post given media is of its genre', () => {
    const genres = demoGenres(ds, GENRES);
    assert.deepEqual(made.looks.map((l) => l.genre), genres);
    const count = (g: string) => ds.items.ids.filter((_, i) => primaryTag(ds, i) === g).length;
    for (let k = 1; k < genres.length; k++) assert.ok(count(genres[k - 1]) >= count(genres[k]));
    assert.equal(new Set(made.looks.map((l) => l.shape)).size, GENRES);
    assert.equal(new Set(made.looks.map((l) => l.tone)).size, GENRES);
    for (const [i, f] of made.posts) {
      assert.equal(primaryTag(ds, i), f.look.genre);
      assert.equal(f.mediaType, ds.items.mediaType[i] === 0 ? 'VIDEO' : 'IMAGE');
    }
    const kinds = [...made.posts.values()].map((f) => f.mediaType);
    assert.ok(kinds.filter((k) => k === 'IMAGE').length >= 2 * GENRES, 'images of every genre');
    assert.ok(kinds.includes('VIDEO'), 'some videos');
  });

  test('the files are under the folder, named by post or genre, and decode', async () => {
    const limits = mediaLimitsOf(config);
    for (const [i, f] of made.posts) assert.equal(f.path, join(made.dir, `${ds.items.ids[i]}.${f.mediaType === 'IMAGE' ? 'jpg' : 'mp4'}`));
    assert.deepEqual(made.tryFiles.map((f) => f.path).sort(), made.looks.flatMap((l) => [join(made.dir, 'try', `${l.genre}.jpg`), join(made.dir, 'try', `${l.genre}.mp4`)]).sort());
    for (const f of files) {
      assert.ok(existsSync(f.path), f.path);
      const d = await decodeMedia({ path: f.path }, limits, { size: 224, fps: 1, audio: true, ocr: false });
      if (f.mediaType === 'IMAGE') assert.equal(d.kind, 'image');
      else {
        assert.equal(d.kind, 'video');
        if (d.kind === 'video') {
          assert.ok(d.seconds >= 1.9 && d.seconds <= 2.2, `${d.seconds} s`);
          assert.ok(d.frames.length >= 2);
          assert.ok(d.audio, 'an audio track');
        }
      }
    }
    // The sprites the clips were made with are not left behind.
    for (const d of [made.dir, join(made.dir, 'try')]) assert.deepEqual(readdirSync(d).filter((n) => n.endsWith('.png')), []);
  });

  test('the same seed makes the same image', async () => {
    const [i, f] = [...made.posts].find(([, x]) => x.mediaType === 'IMAGE')!;
    mkdirSync(join(root, 'again'));
    const again = await renderFile(join(root, 'again'), ds.items.ids[i], f.look, 'IMAGE', 5);
    assert.deepEqual(readFileSync(again), readFileSync(f.path));
  });

  test("the features have the extractors' widths, are finite, and replace the dataset's rows", () => {
    for (const f of files) {
      assert.equal(f.visual?.length, VISUAL, f.path);
      assert.ok(f.visual!.every(Number.isFinite));
      assert.ok(f.visual!.some((x) => x !== 0));
      if (f.mediaType === 'VIDEO') {
        assert.equal(f.audio?.length, AUDIO, f.path);
        assert.ok(f.audio!.every(Number.isFinite));
      } else assert.equal(f.audio, undefined);
    }
    for (const [i, f] of made.posts) {
      assert.deepEqual(featureRow(ds.features.visual!, i), f.visual);
      if (f.mediaType === 'VIDEO') assert.deepEqual(featureRow(ds.features.audio!, i), f.audio);
      assert.notDeepEqual(featureRow(simulated.features.visual!, i), f.visual);
      // No text model here: like an upload of the file, the post has no text feature (an all-zero row).
      assert.ok(featureRow(ds.features.text!, i).every((x) => x === 0));
    }
    // The other posts keep their simulated rows.
    const other = ds.items.ids.findIndex((_, i) => !made.posts.has(i));
    assert.deepEqual(featureRow(ds.features.visual!, other), featureRow(simulated.features.visual!, other));
  });

  test('posts of one genre are closer in visual feature space than posts of different genres', () => {
    const images = files.filter((f) => f.mediaType === 'IMAGE');
    const v = separation(images, 'visual');
    assert.ok(v.same > v.different + 0.02, `images: same genre ${v.same.toFixed(3)}, different ${v.different.toFixed(3)}`);
    const videos = files.filter((f) => f.mediaType === 'VIDEO');
    const vv = separation(videos, 'visual');
    assert.ok(vv.same > vv.different, `videos: same genre ${vv.same.toFixed(3)}, different ${vv.different.toFixed(3)}`);
    const a = separation(videos, 'audio');
    assert.ok(a.same > a.different, `audio: same genre ${a.same.toFixed(3)}, different ${a.different.toFixed(3)}`);
  });
});
