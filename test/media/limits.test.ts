import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaError, trimDiagnostic } from '../../src/media/errors.js';
import { DecodeLimiter } from '../../src/media/limiter.js';
import { DEFAULT_MEDIA_LIMITS, mediaLimits } from '../../src/media/limits.js';
import { classify } from '../../src/media/process.js';

test('limits: defaults that real uploads pass, overrides checked by name and value', () => {
  assert.deepEqual(mediaLimits(), { ...DEFAULT_MEDIA_LIMITS });
  assert.equal(DEFAULT_MEDIA_LIMITS.maxBytes, 50 * 1024 * 1024);
  assert.equal(DEFAULT_MEDIA_LIMITS.maxPixels, 40_000_000);
  assert.equal(DEFAULT_MEDIA_LIMITS.maxVideoSeconds, 600);
  assert.equal(mediaLimits({ maxFrames: 10 }).maxFrames, 10);
  assert.throws(() => mediaLimits({ maxBytes: 0 }), /maxBytes must be a positive integer/);
  assert.throws(() => mediaLimits({ timeoutMs: 1.5 }), /timeoutMs must be a positive integer/);
  assert.throws(() => mediaLimits({ maxPixel: 5 } as never), /unknown media limit "maxPixel"/);
});

test('the decode limiter runs at most its concurrency at once, in arrival order, and frees slots on failure', async () => {
  const limiter = new DecodeLimiter(2);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const job = (i: number) =>
    limiter.run(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      order.push(i);
      if (i % 3 === 0) throw new Error(`job ${i}`);
      return i;
    });
  const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => job(i)));
  assert.equal(most, 2);
  assert.equal(results.filter((r) => r.status === 'rejected').length, 3);
  assert.deepEqual([limiter.active, limiter.queued], [0, 0]);
  assert.deepEqual(order.slice(0, 2).sort(), [0, 1]);
  assert.throws(() => new DecodeLimiter(0), /positive integer/);
});

test("decoder messages become the uploader's problem by kind, without our paths; our own mistakes stay ours", () => {
  const code = (stderr: string) => {
    const err = classify('the video', stderr);
    return err instanceof MediaError ? err.code : 'PLAIN';
  };
  assert.equal(code('[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c0] moov atom not found\nfile:/tmp/memer-media-x1/input: Invalid data found when processing input\n'), 'TRUNCATED');
  assert.equal(code('[mov,mp4,m4a @ 0x1] stream 0, offset 0x2181: partial file\n'), 'TRUNCATED');
  assert.equal(code("[hls @ 0x1] Protocol 'http' not on whitelist 'file,pipe'!\n"), 'UNSUPPORTED');
  assert.equal(code('[png @ 0x1] [IMGUTILS @ 0x2] Picture size 8000x6000 exceeds specified max pixel count 40000000, see the documentation\n'), 'TOO_MANY_PIXELS');
  assert.equal(code('[h264 @ 0x1] Invalid NAL unit size (528 > 16).\n'), 'CORRUPT');
  assert.equal(code("Unrecognized option 'frobnicate'.\nError splitting the argument list: Option not found\n"), 'PLAIN');
  const err = classify('the video', '[mov,mp4,m4a @ 0x55d0c0] moov atom not found\nfile:/tmp/memer-media-x1/input: Invalid data found\n');
  assert.equal(err.message, 'the video is truncated or incomplete (mov: moov atom not found; input: Invalid data found)');
  // Repeats of one message (libvips retries) are said once; long diagnostics are cut.
  assert.equal(trimDiagnostic('bad seek to 1024\nbad seek to 512\nbad seek to 256\nend'), 'bad seek to 1024; end');
  assert.equal(trimDiagnostic('x'.repeat(1000)).length, 300);
});
