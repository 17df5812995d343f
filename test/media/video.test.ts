import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { decodeAudio } from '../../src/media/audio.js';
import { decodeMedia } from '../../src/media/decode.js';
import { MediaError } from '../../src/media/errors.js';
import { DecodeLimiter } from '../../src/media/limiter.js';
import { mediaLimits } from '../../src/media/limits.js';
import { probeMedia } from '../../src/media/probe.js';
import { decodeVideoFrames, samplingRate, videoOcrFrames } from '../../src/media/video.js';
import { colourVideo, decoderChildren, dominantFrequency, ffmpeg, leftovers, patternVideo, removeDir, sineAudio, tempDir } from './fixtures.js';

const limits = mediaLimits();
let dir: string;
let colours: string;

before(async () => {
  dir = await tempDir('video');
  colours = await colourVideo(dir);
});
after(async () => {
  assert.deepEqual(await leftovers(dir), [], 'the decoder left temp files behind');
  assert.deepEqual(await decoderChildren(), [], 'a decoder outlived its call');
  await removeDir(dir);
});

/** Mean RGB of the frames of one second. */
function secondMean(frames: { data: Float32Array }[], frameSecond: Int32Array, second: number): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  frames.forEach((f, i) => {
    if (frameSecond[i] !== second) return;
    for (let p = 0; p < f.data.length; p += 3) for (let c = 0; c < 3; c++) sum[c] += f.data[p + c];
    n += f.data.length / 3;
  });
  return sum.map((s) => s / n);
}

test('frames are sampled at the asked rate and grouped by the second they fall in', async () => {
  const video = await decodeVideoFrames(colours, { fps: 4, size: 16, limits });
  assert.equal(video.frames.length, 12);
  assert.deepEqual([...video.frameSecond], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  assert.deepEqual([video.seconds, video.fps, video.duration, video.width, video.height], [3, 4, 3, 64, 48]);
  assert.ok(video.frames.every((f) => f.width === 16 && f.height === 16 && f.data.length === 16 * 16 * 3));
  // Each second's mean colour is that second's colour: red, then green, then blue.
  const expected = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let s = 0; s < 3; s++) {
    const mean = secondMean(video.frames, video.frameSecond, s);
    assert.ok(mean.every((v, c) => Math.abs(v - expected[s][c]) < 0.03), `second ${s}: ${mean.map((v) => v.toFixed(3))}`);
  }
});

test('a video too long for maxFrames at the asked rate is sampled more sparsely, never past the limit', async () => {
  const tight = mediaLimits({ maxFrames: 4 });
  assert.equal(samplingRate(4, 3, tight), 1);
  const video = await decodeVideoFrames(colours, { fps: 4, size: 8, limits: tight });
  assert.equal(video.fps, 1);
  assert.deepEqual([...video.frameSecond], [0, 1, 2]);
  const half = await decodeVideoFrames(colours, { fps: 0.5, size: 8, limits });
  assert.deepEqual([...half.frameSecond], [0, 2]);
  assert.equal(half.seconds, 3);
});

test('the audio track is 16 kHz mono: a 440 Hz sine comes out at 440 Hz, of the right length', async () => {
  const audio = await decodeAudio(colours, { limits });
  assert.ok(audio);
  assert.ok(Math.abs(audio.length - 3 * 16000) < 16000 * 0.03, `${audio.length} samples`);
  assert.equal(dominantFrequency(audio.subarray(4000, 20000), 16000), 440);
  const stereo = await sineAudio(dir, 'stereo.wav', [], { frequency: 1000, channels: 2 });
  const mono = await decodeAudio(stereo, { limits });
  assert.equal(mono!.length, 32000);
  assert.equal(dominantFrequency(mono!.subarray(0, 16000), 16000), 1000);
  assert.ok(Math.max(...mono!.subarray(0, 1000)) <= 1.0001);
  // A video without sound has no audio: null, not an error.
  const silent = await patternVideo(dir, 'silent.mkv', ['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast']);
  assert.equal(await decodeAudio(silent, { limits }), null);
});

test('decodeMedia: one entry for a video (frames, audio, OCR frames), an audio file, an image, from a Buffer or a path', async () => {
  const bytes = await readFile(colours);
  const video = await decodeMedia(bytes, limits, { size: 8, fps: 2, ocr: { frames: 2 }, tmpDir: dir });
  assert.equal(video.kind, 'video');
  if (video.kind !== 'video') return;
  assert.deepEqual([video.format, video.frames.length, video.seconds, video.bytes], ['mp4', 6, 3, bytes.length]);
  assert.ok(video.audio && video.audio.length > 40000);
  assert.equal(video.ocrPngs.length, 2);
  const ocr = await sharp(video.ocrPngs[0]).metadata();
  assert.deepEqual([ocr.format, ocr.width, ocr.height, ocr.channels], ['png', 1000, 750, 1]);

  const byPath = await decodeMedia({ path: colours }, limits, { size: 8, audio: false });
  assert.equal(byPath.kind === 'video' && byPath.audio, null);

  const mp3 = await sineAudio(dir, 'tone.mp3', ['-c:a', 'libmp3lame']);
  const audio = await decodeMedia({ path: mp3 }, limits, { size: 8 });
  assert.equal(audio.kind, 'audio');
  if (audio.kind === 'audio') {
    assert.ok(Math.abs(audio.duration - 2) < 0.1, `${audio.duration} s`);
    assert.equal(dominantFrequency(audio.audio.subarray(2000, 18000), 16000), 440);
  }
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: 'red' } }).png().toBuffer();
  const image = await decodeMedia(png, limits, { size: 8, expect: ['image'] });
  assert.deepEqual(image.kind === 'image' && [image.format, image.width, image.height, image.image.width], ['png', 40, 30, 8]);
});

test('an mp3 with cover art is audio (the picture is not a video stream); a rotated video is decoded upright', async () => {
  const mp3 = await sineAudio(dir, 'plain.mp3', ['-c:a', 'libmp3lame']);
  const cover = join(dir, 'cover.png');
  await sharp({ create: { width: 32, height: 32, channels: 3, background: 'blue' } }).png().toFile(cover);
  const tagged = join(dir, 'tagged.mp3');
  await ffmpeg(['-i', mp3, '-i', cover, '-map', '0', '-map', '1', '-c', 'copy', '-disposition:v', 'attached_pic', '-id3v2_version', '3', tagged]);
  const probe = await probeMedia(tagged, { limits });
  assert.deepEqual([probe.kind, probe.video], ['audio', null]);
  await assert.rejects(decodeMedia({ path: tagged }, limits, { size: 8, expect: ['video'] }), (err: unknown) => err instanceof MediaError && err.code === 'UNSUPPORTED');

  const plain = await patternVideo(dir, 'plain.mp4', ['-c:v', 'libx264', '-preset', 'ultrafast', '-an'], 1, '64x48');
  const rotated = join(dir, 'rotated.mp4');
  await ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
  const video = await decodeVideoFrames(rotated, { fps: 1, size: 8, limits });
  assert.deepEqual([video.width, video.height], [48, 64]);
  const [png] = await videoOcrFrames(rotated, { limits, count: 1 });
  const meta = await sharp(png).metadata();
  assert.ok(meta.height! > meta.width!, `${meta.width}x${meta.height}`);
});

test('a header claiming 10 hours is refused from the probe, in well under a second of decoding', async () => {
  const long = join(dir, 'ten-hours.mp4');
  // Two frames 5 hours apart: a real, tiny file whose header honestly says 10 hours.
  await ffmpeg(['-f', 'lavfi', '-i', 'color=red:s=16x16:r=1/18000', '-t', '36000', '-c:v', 'libx264', '-preset', 'ultrafast', long]);
  const started = Date.now();
  await assert.rejects(decodeMedia({ path: long }, limits, { size: 8 }), (err: unknown) => err instanceof MediaError && err.code === 'TOO_LONG' && /10 h 0 min/.test(err.message));
  assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
});

test('a video longer than its header says, or with no duration at all, is stopped at the limit', async () => {
  const short = mediaLimits({ maxVideoSeconds: 5 });
  // A live WebM has no duration and no index (as browsers' MediaRecorder writes them).
  const streamed = join(dir, 'streamed.webm');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=32x24:rate=5:duration=20', '-c:v', 'libvpx', '-deadline', 'realtime', '-f', 'webm', '-live', '1', streamed]);
  const probe = await probeMedia(streamed, { limits: short });
  assert.equal(probe.duration, null);
  await assert.rejects(decodeVideoFrames(streamed, { fps: 1, size: 8, limits: short }), (err: unknown) => err instanceof MediaError && err.code === 'TOO_LONG');
  // Under the limit, the same kind of file decodes.
  const frames = await decodeVideoFrames(streamed, { fps: 1, size: 8, limits: mediaLimits({ maxVideoSeconds: 30 }) });
  assert.equal(frames.frames.length, 20);
});

test('decodes wait for a slot of their limiter', async () => {
  const limiter = new DecodeLimiter(1);
  const bytes = await readFile(colours);
  const runs = [1, 2, 3].map(() => decodeMedia(bytes, limits, { size: 8, limiter, tmpDir: dir }));
  assert.deepEqual([limiter.active, limiter.queued], [1, 2]);
  const done = await Promise.all(runs);
  assert.ok(done.every((d) => d.kind === 'video'));
  assert.deepEqual([limiter.active, limiter.queued], [0, 0]);
});
