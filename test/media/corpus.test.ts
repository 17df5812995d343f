/**
 * The bad-media corpus: over 200 corrupt or hostile files made from valid ones by seeded mutations (truncations,
 * random bytes behind real magic numbers, bombs, 10-hour headers, missing indexes, playlists that point at local
 * files or URLs, wrong kinds). Each one must be refused with a MediaError: no crash, no other error type, no
 * unhandled rejection, no hang (each decode is raced against a deadline), and no temp file or decoder left behind.
 * Random bit flips are a separate set: a flip in compressed pixel data can leave a file that decodes (to other
 * pixels), so those must be refused with a MediaError or decode to well-formed output.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { decodeMedia, type DecodedMedia, type DecodeMediaOptions } from '../../src/media/decode.js';
import { MEDIA_ERROR_CODES, MediaError } from '../../src/media/errors.js';
import { DecodeLimiter } from '../../src/media/limiter.js';
import { mediaLimits, type MediaLimits } from '../../src/media/limits.js';
import { probeMedia } from '../../src/media/probe.js';
import { decodeVideoFrames } from '../../src/media/video.js';
import { Rng } from '../../src/lib/random.js';
import { boxOffset, decoderChildren, ffmpeg, leftovers, patternVideo, pngBomb, pngChunk, removeDir, sineAudio, tempDir } from './fixtures.js';

const limits = mediaLimits({ timeoutMs: 20_000 });
/** A decode that takes this long has hung: the corpus fails rather than wait. */
const HANG_MS = 25_000;

interface Case {
  name: string;
  /** The upload, or a file to decode by path. */
  input: Buffer | { path: string };
  limits?: MediaLimits;
  opts?: Partial<DecodeMediaOptions>;
  /** The code it must be refused with, when one is certain. */
  code?: (typeof MEDIA_ERROR_CODES)[number];
  /** Decode through this instead of decodeMedia (the lower-level entries must refuse too). */
  decode?: () => Promise<unknown>;
}

let dir: string;
const base: Record<string, Buffer> = {};
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  dir = await tempDir('corpus');
  const picture = sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 120, b: 200 } } }).composite([
    { input: await sharp({ create: { width: 20, height: 20, channels: 3, background: 'yellow' } }).png().toBuffer(), left: 10, top: 10 },
  ]);
  base.jpeg = await picture.clone().jpeg().toBuffer();
  base.png = await picture.clone().png().toBuffer();
  base.webp = await picture.clone().webp().toBuffer();
  base.gif = await picture.clone().gif().toBuffer();
  base.avif = await picture.clone().avif().toBuffer();
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  const made = await Promise.all([
    patternVideo(dir, 'v.mp4', [...x264, '-c:a', 'aac']),
    patternVideo(dir, 'faststart.mp4', [...x264, '-c:a', 'aac', '-movflags', '+faststart']),
    patternVideo(dir, 'v.webm', ['-c:v', 'libvpx', '-deadline', 'realtime', '-c:a', 'libvorbis']),
    patternVideo(dir, 'v.mkv', [...x264, '-c:a', 'flac']),
    patternVideo(dir, 'v.avi', ['-c:v', 'mpeg4', '-c:a', 'pcm_s16le']),
    sineAudio(dir, 'a.wav', []),
    sineAudio(dir, 'a.flac', ['-c:a', 'flac']),
    sineAudio(dir, 'a.m4a', ['-c:a', 'aac']),
    sineAudio(dir, 'a.mp3', ['-c:a', 'libmp3lame']),
    sineAudio(dir, 'a.ogg', ['-c:a', 'libvorbis']),
  ]);
  for (const path of made) base[path.slice(path.lastIndexOf('/') + 1).replace(/^a\.|^v\./, '').replace('.mp4', '')] = await readFile(path);
});

after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await removeDir(dir);
});

/** Files that carry a complete structure (sizes, indexes, CRCs, sample counts): any cut of them must be refused. */
const STRUCTURED = ['jpeg', 'png', 'webp', 'gif', 'avif', 'mp4', 'faststart', 'webm', 'mkv', 'avi', 'wav', 'flac', 'm4a'];

const MAGICS: Record<string, Buffer> = {
  jpeg: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  gif: Buffer.from('GIF89a', 'latin1'),
  webp: Buffer.from('RIFF\x10\0\0\0WEBPVP8 ', 'latin1'),
  avif: Buffer.from('\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf', 'latin1'),
  mp4: Buffer.from('\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41', 'latin1'),
  mov: Buffer.from('\0\0\0\x14ftypqt  \0\0\x02\0qt  ', 'latin1'),
  webm: base_ebml('webm'),
  mkv: base_ebml('matroska'),
  avi: Buffer.from('RIFF\0\x10\0\0AVI LIST', 'latin1'),
  wav: Buffer.from('RIFF\0\x10\0\0WAVEfmt ', 'latin1'),
  mp3: Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'),
  ogg: Buffer.from('OggS\0\x02', 'latin1'),
  flac: Buffer.from('fLaC\0\0\0\x22', 'latin1'),
};

function base_ebml(docType: string): Buffer {
  return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x80 | docType.length]), Buffer.from(docType, 'latin1')]);
}

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/**
 * An mp4 that says 10 hours everywhere ffmpeg looks: the movie, track and media durations, the edit lists, and every
 * sample's duration (x12000, so 3 s of samples span 10 hours). All boxes here are version 0 (32-bit fields).
 */
function tenHourMp4(mp4: Buffer): Buffer {
  const out = Buffer.from(mp4);
  const each = (type: string, patch: (body: number) => void) => {
    for (let at = out.indexOf(type); at >= 0; at = out.indexOf(type, at + 4)) if (out[at + 4] === 0) patch(at + 4);
  };
  let movieScale = 1000;
  each('mvhd', (body) => {
    movieScale = out.readUInt32BE(body + 12);
    out.writeUInt32BE(36000 * movieScale, body + 16);
  });
  each('tkhd', (body) => out.writeUInt32BE(36000 * movieScale, body + 20));
  each('mdhd', (body) => out.writeUInt32BE(36000 * out.readUInt32BE(body + 12), body + 16));
  each('elst', (body) => out.writeUInt32BE(36000 * movieScale, body + 8));
  each('stts', (body) => {
    for (let i = 0, n = out.readUInt32BE(body + 4); i < n; i++) {
      const delta = body + 12 + 8 * i;
      out.writeUInt32BE(out.readUInt32BE(delta) * 12000, delta);
    }
  });
  return out;
}

/** A GIF whose screen and first frame both declare 65535x65535 (libvips sizes the image by the frame). */
function gifBomb(gif: Buffer): Buffer {
  const out = Buffer.from(gif);
  out.writeUInt16LE(65_535, 6);
  out.writeUInt16LE(65_535, 8);
  const flags = out[10];
  let at = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  // Skip extension blocks (0x21, label, sub-blocks ending in a zero length) up to the image descriptor (0x2c).
  while (out[at] === 0x21) {
    at += 2;
    while (out[at] !== 0) at += out[at] + 1;
    at += 1;
  }
  assert.equal(out[at], 0x2c, 'no image descriptor');
  out.writeUInt16LE(65_535, at + 5);
  out.writeUInt16LE(65_535, at + 7);
  return out;
}

/** A Matroska file whose Segment Info Duration (an 8-byte float, in ms at the default timescale) says `ms`. */
function mkvWithDuration(mkv: Buffer, ms: number): Buffer {
  const out = Buffer.from(mkv);
  const at = out.indexOf(Buffer.from([0x44, 0x89, 0x88]));
  assert.ok(at > 0, 'no 8-byte Duration element');
  out.writeDoubleBE(ms, at + 3);
  return out;
}

/** FLAC's STREAMINFO with its total sample count (36 bits) set to 10 hours at the stream's rate. */
function tenHourFlac(flac: Buffer): Buffer {
  const out = Buffer.from(flac);
  const info = 8; // 'fLaC' + metadata block header
  const rate = (out[info + 10] << 12) | (out[info + 11] << 4) | (out[info + 12] >> 4);
  const total = 36000 * rate;
  out[info + 13] = (out[info + 13] & 0xf0) | Math.floor(total / 2 ** 32);
  out.writeUInt32BE(total % 2 ** 32, info + 14);
  return out;
}

async function buildCorpus(): Promise<{ mustRefuse: Case[]; flips: Case[] }> {
  const rng = new Rng(18);
  const cases: Case[] = [];
  const file = async (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return { path };
  };

  // Empty, by bytes and by path.
  cases.push({ name: 'zero bytes', input: Buffer.alloc(0), code: 'EMPTY' });
  cases.push({ name: 'zero-byte file named .mp4', input: await file('empty.mp4', Buffer.alloc(0)), code: 'EMPTY' });

  // Random bytes, any length.
  for (const n of [1, 2, 3, 7, 16, 63, 64, 65, 200, 511, 1024, 4096, 10_000, 65_536, 100_000, 250_000]) {
    cases.push({ name: `${n} random bytes`, input: randomBytes(rng, n) });
  }

  // A real magic number followed by garbage, twice per format.
  for (const [format, magic] of Object.entries(MAGICS)) {
    for (const n of [40 + rng.int(200), 2000 + rng.int(20_000)]) {
      cases.push({ name: `${format} magic + ${n} random bytes`, input: Buffer.concat([magic, randomBytes(rng, n)]) });
    }
  }

  // Cut at ten seeded offsets in the first 90% of each structured file.
  for (const format of STRUCTURED) {
    const whole = base[format];
    for (let k = 0; k < 10; k++) {
      const at = 1 + rng.int(Math.floor(whole.length * 0.9));
      cases.push({ name: `${format} cut at ${at} of ${whole.length}`, input: whole.subarray(0, at) });
    }
  }

  // Decompression bombs: huge declared dimensions, tiny files.
  cases.push({ name: 'png 8000x8000 of zeros (64 MP in a few KB)', input: pngBomb(8000, 8000), code: 'TOO_MANY_PIXELS' });
  cases.push({ name: 'png header declaring 100000x100000', input: pngBomb(100_000, 100_000, true), code: 'TOO_MANY_PIXELS' });
  {
    const jpeg = Buffer.from(base.jpeg);
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(65_500, sof + 5);
    jpeg.writeUInt16BE(65_500, sof + 7);
    cases.push({ name: 'jpeg SOF declaring 65500x65500', input: jpeg, code: 'TOO_MANY_PIXELS' });
    cases.push({ name: 'gif declaring a 65535x65535 frame', input: gifBomb(base.gif), code: 'TOO_MANY_PIXELS' });
    // A lossy WebP's VP8 frame header declares the size (14 bits each) right after its start code 9d 01 2a.
    const webp = Buffer.from(base.webp);
    const start = webp.indexOf(Buffer.from([0x9d, 0x01, 0x2a]));
    webp.writeUInt16LE(16_383, start + 3);
    webp.writeUInt16LE(16_383, start + 5);
    cases.push({ name: 'webp frame declaring 16383x16383', input: webp, code: 'TOO_MANY_PIXELS' });
  }
  const bigFrame = join(dir, 'big-frame.mkv');
  await ffmpeg(['-f', 'lavfi', '-i', 'color=black:s=8000x6000:r=1:d=1', '-c:v', 'png', bigFrame]);
  cases.push({ name: 'video with an 8000x6000 frame', input: await readFile(bigFrame), code: 'TOO_MANY_PIXELS' });

  // Ten-hour headers, refused from the probe.
  const sparse = join(dir, 'sparse-10h.mp4');
  await ffmpeg(['-f', 'lavfi', '-i', 'color=red:s=16x16:r=1/18000', '-t', '36000', '-c:v', 'libx264', '-preset', 'ultrafast', sparse]);
  cases.push({ name: 'mp4 of two frames 5 hours apart', input: await readFile(sparse), code: 'TOO_LONG' });
  cases.push({ name: 'mp4 whose durations and sample tables say 10 hours', input: tenHourMp4(base.mp4), code: 'TOO_LONG' });
  cases.push({ name: 'mkv whose Duration says 10 hours', input: mkvWithDuration(base.mkv, 36_000_000), code: 'TOO_LONG' });
  {
    const wav = Buffer.from(base.wav);
    wav.writeUInt32LE(0x7fff0000, wav.indexOf('data') + 4);
    cases.push({ name: 'wav whose data chunk declares 6.7 hours', input: wav, code: 'TOO_LONG' });
  }
  cases.push({ name: 'flac whose STREAMINFO declares 10 hours', input: tenHourFlac(base.flac), code: 'TOO_LONG' });

  // The header says 1 s, the content runs 20 s: stopped at the limit while decoding.
  const twenty = await patternVideo(dir, 'twenty.mkv', ['-c:v', 'libx264', '-preset', 'ultrafast', '-an'], 20, '32x24');
  cases.push({ name: 'mkv claiming 1 s that runs 20 s', input: mkvWithDuration(await readFile(twenty), 1000), limits: mediaLimits({ maxVideoSeconds: 5 }), code: 'TOO_LONG' });

  // mp4 without its index.
  {
    const moov = boxOffset(base.mp4, 'moov');
    cases.push({ name: 'mp4 cut just before its moov', input: base.mp4.subarray(0, moov - 4), code: 'TRUNCATED' });
    const renamed = Buffer.from(base.mp4);
    renamed.write('free', moov, 'latin1');
    // ffmpeg finds the index inside the free box and says so, as an error: refused as corrupt.
    cases.push({ name: 'mp4 whose moov is renamed free', input: renamed, code: 'CORRUPT' });
    const size = base.mp4.readUInt32BE(moov - 4);
    cases.push({ name: 'mp4 with its moov removed', input: Buffer.concat([base.mp4.subarray(0, moov - 4), base.mp4.subarray(moov - 4 + size)]), code: 'TRUNCATED' });
  }

  // Playlists and lists that name other files or URLs, under names and types that claim video.
  const hostile = {
    'hls-passwd.mp4': '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n',
    'hls-http.m3u8': '#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/segment.ts\n#EXT-X-ENDLIST\n',
    'concat.mp4': 'ffconcat version 1.0\nfile /etc/passwd\nfile http://127.0.0.1:9/a.mp4\n',
    'stream.sdp': 'v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n',
    'page.jpg': '<!doctype html><img src="http://127.0.0.1:9/x.jpg">',
    'vector.png': '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><image href="file:///etc/passwd"/></svg>',
  };
  for (const [name, text] of Object.entries(hostile)) {
    cases.push({ name: `${name} (by bytes)`, input: Buffer.from(text), code: 'UNSUPPORTED' });
    cases.push({ name: `${name} (by path)`, input: await file(name, text), code: 'UNSUPPORTED' });
  }
  // A playlist behind a real ftyp box: sniffed as mp4, so ffmpeg is held to the mov demuxer and never reads it as HLS.
  const ftypPlaylist = Buffer.concat([MAGICS.mp4, Buffer.from(hostile['hls-passwd.mp4'])]);
  cases.push({ name: 'HLS playlist behind an ftyp box', input: ftypPlaylist });
  // The lower-level entries sniff too: a playlist given straight to the frame decoder is refused before ffmpeg runs.
  const direct = await file('direct.m3u8', hostile['hls-passwd.mp4']);
  cases.push({ name: 'HLS playlist given to decodeVideoFrames', input: direct, code: 'UNSUPPORTED', decode: () => decodeVideoFrames(direct.path, { fps: 1, size: 8, limits }) });
  cases.push({ name: 'HLS playlist given to probeMedia', input: direct, code: 'UNSUPPORTED', decode: () => probeMedia(direct.path, { limits }) });

  // The wrong kind for what the caller takes (a post declared as an image uploads a video, and so on).
  cases.push({ name: 'mp4 where an image is expected', input: base.mp4, opts: { expect: ['image'] }, code: 'UNSUPPORTED' });
  cases.push({ name: 'jpeg where a video is expected', input: base.jpeg, opts: { expect: ['video'] }, code: 'UNSUPPORTED' });
  cases.push({ name: 'wav where a video is expected', input: base.wav, opts: { expect: ['video'] }, code: 'UNSUPPORTED' });
  cases.push({ name: 'png where audio is expected', input: base.png, opts: { expect: ['audio'] }, code: 'UNSUPPORTED' });
  cases.push({ name: 'mp3 given to decodeVideoFrames', input: base.mp3, code: 'NO_VIDEO_STREAM', decode: () => decodeVideoFrames(join(dir, 'a.mp3'), { fps: 1, size: 8, limits }) });
  const subtitles = join(dir, 'subs.srt');
  await writeFile(subtitles, '1\n00:00:00,000 --> 00:00:01,000\nhello\n');
  const subsOnly = join(dir, 'subs-only.mp4');
  await ffmpeg(['-i', subtitles, '-c:s', 'mov_text', subsOnly]);
  cases.push({ name: 'mp4 holding only subtitles', input: await readFile(subsOnly), code: 'NO_VIDEO_STREAM' });

  // Over the byte limit, by bytes and by path; and out of time.
  cases.push({ name: 'mp4 over maxBytes', input: base.mp4, limits: mediaLimits({ maxBytes: 1000 }), code: 'TOO_LARGE' });
  cases.push({ name: 'jpeg file over maxBytes', input: await file('big.jpg', base.jpeg), limits: mediaLimits({ maxBytes: 100 }), code: 'TOO_LARGE' });
  cases.push({ name: 'video with 1 ms to decode', input: base.mp4, limits: mediaLimits({ timeoutMs: 1 }), code: 'TIMEOUT' });

  // Random bit flips anywhere past the magic number: refused, or decoded to well-formed output.
  const flips: Case[] = [];
  for (const format of [...STRUCTURED, 'mp3', 'ogg']) {
    for (let k = 0; k < 4; k++) {
      const flipped = Buffer.from(base[format]);
      for (let n = 0; n < 1 + k; n++) {
        const at = 16 + rng.int(flipped.length - 16);
        flipped[at] ^= 1 << rng.int(8);
      }
      flips.push({ name: `${format} with ${k + 1} bit flips`, input: flipped });
    }
  }
  return { mustRefuse: cases, flips };
}

async function attempt(c: Case): Promise<{ result?: unknown; error?: unknown; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${c.name} took over ${HANG_MS} ms`)), HANG_MS);
  });
  const work = c.decode ? c.decode() : decodeMedia(c.input, c.limits ?? limits, { size: 16, fps: 1, ocr: true, tmpDir: dir, ...c.opts });
  try {
    return { result: await Promise.race([work, hang]), ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the cases `concurrency` at a time (the machine's cores are shared with the other test files). */
async function runAll(cases: Case[], concurrency = 2) {
  const limiter = new DecodeLimiter(concurrency);
  return Promise.all(cases.map((c) => limiter.run(async () => ({ c, ...(await attempt(c)) }))));
}

function wellFormed(d: DecodedMedia): boolean {
  const inUnit = (a: Float32Array) => a.every((v) => v >= 0 && v <= 1);
  if (d.kind === 'image') return d.image.width === 16 && d.image.data.length === 16 * 16 * 3 && inUnit(d.image.data);
  if (d.kind === 'video') return d.frames.length > 0 && d.frames.length === d.frameSecond.length && d.frames.every((f) => f.data.length === 16 * 16 * 3 && inUnit(f.data));
  return d.audio.length > 0 && d.audio.every(Number.isFinite);
}

test('every file of the bad-media corpus is refused with a MediaError naming the problem', { timeout: 120_000 }, async () => {
  const { mustRefuse, flips } = await buildCorpus();
  assert.ok(mustRefuse.length >= 200, `only ${mustRefuse.length} cases`);
  const started = Date.now();
  const outcomes = await runAll(mustRefuse);
  const wrong = outcomes.filter(({ c, error }) => !(error instanceof MediaError) || (c.code !== undefined && error.code !== c.code));
  assert.deepEqual(
    wrong.map(({ c, error, result }) => `${c.name}: ${error ? (error instanceof MediaError ? `${error.code} (expected ${c.code})` : String(error)) : `decoded as ${(result as DecodedMedia).kind}`}`),
    [],
  );
  for (const { c, error } of outcomes) {
    const err = error as MediaError;
    assert.ok(MEDIA_ERROR_CODES.includes(err.code), c.name);
    // A message a person can act on: it says what is wrong, never where our temp files live.
    assert.ok(err.message.length > 10 && err.message.length < 600, `${c.name}: ${err.message}`);
    assert.doesNotMatch(err.message, /memer-media-|\/tmp\//, c.name);
  }
  const codes = new Map<string, number>();
  for (const { error } of outcomes) codes.set((error as MediaError).code, (codes.get((error as MediaError).code) ?? 0) + 1);
  const slowest = outcomes.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(`corpus: ${mustRefuse.length} files refused in ${Date.now() - started} ms (${[...codes].map(([k, n]) => `${k} ${n}`).join(', ')}); slowest ${slowest.c.name} ${slowest.ms} ms`);

  const flipped = await runAll(flips);
  const bad = flipped.filter(({ error, result }) => (error ? !(error instanceof MediaError) : !wellFormed(result as DecodedMedia)));
  assert.deepEqual(bad.map(({ c, error }) => `${c.name}: ${String(error ?? 'malformed output')}`), []);
  const refused = flipped.filter(({ error }) => error).length;
  console.log(`bit flips: ${flips.length} files, ${refused} refused, ${flips.length - refused} decoded to well-formed output`);

  assert.deepEqual(unhandled, [], 'unhandled rejections');
  assert.deepEqual(await leftovers(dir), [], 'temp files left behind');
  assert.deepEqual(await decoderChildren(), [], 'decoders left running');
});
