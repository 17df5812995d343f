import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { MediaError } from '../../src/media/errors.js';
import type { RgbImage } from '../../src/media/image-types.js';
import { decodeImage, imageToOcrPng, readImageHeader } from '../../src/media/image.js';
import { mediaLimits } from '../../src/media/limits.js';
import { pngBomb } from './fixtures.js';

const limits = mediaLimits();
type Rgb = [number, number, number];

/** Side-by-side blocks of colour, left to right (or top to bottom), each `w` x `h`. */
async function stripes(colours: Rgb[], w: number, h: number, vertical = true): Promise<Sharp> {
  const width = vertical ? w * colours.length : w;
  const height = vertical ? h : h * colours.length;
  const blocks = await Promise.all(colours.map((c) => sharp({ create: { width: w, height: h, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } }).png().toBuffer()));
  return sharp({ create: { width, height, channels: 3, background: 'black' } }).composite(
    blocks.map((input, i) => ({ input, left: vertical ? i * w : 0, top: vertical ? 0 : i * h })),
  );
}

function pixel(img: RgbImage, x: number, y: number): Rgb {
  const at = (y * img.width + x) * 3;
  return [img.data[at], img.data[at + 1], img.data[at + 2]];
}

function near(actual: Rgb, expected: Rgb, tolerance: number, what: string) {
  const e = expected.map((v) => v / 255);
  assert.ok(actual.every((v, i) => Math.abs(v - e[i]) <= tolerance), `${what}: ${actual.map((v) => v.toFixed(3))} vs ${e.map((v) => v.toFixed(3))}`);
}

const RED: Rgb = [255, 0, 0];
const GREEN: Rgb = [0, 255, 0];
const BLUE: Rgb = [0, 0, 255];

test('images are resized to cover the square, then centre-cropped, for every input format', async () => {
  const wide = await stripes([RED, GREEN, BLUE], 100, 100);
  for (const [format, encoded] of [
    ['png', await wide.clone().png().toBuffer()],
    ['jpeg', await wide.clone().jpeg({ quality: 95 }).toBuffer()],
    ['webp', await wide.clone().webp({ lossless: true }).toBuffer()],
    ['gif', await wide.clone().gif().toBuffer()],
    ['avif', await wide.clone().avif({ lossless: true }).toBuffer()],
  ] as const) {
    const out = await decodeImage(encoded, limits, { size: 30 });
    assert.deepEqual([out.format, out.width, out.height, out.image.width, out.image.height, out.image.data.length], [format, 300, 100, 30, 30, 30 * 30 * 3]);
    // The 300x100 image scales to 90x30; the centre 30 columns are the green stripe alone.
    for (const [x, y] of [[2, 2], [15, 15], [27, 27]]) near(pixel(out.image, x, y), GREEN, 0.1, `${format} (${x},${y})`);
    assert.ok(out.image.data.every((v) => v >= 0 && v <= 1));
  }
  const tall = await (await stripes([RED, GREEN, BLUE], 100, 100, false)).png().toBuffer();
  const out = await decodeImage(tall, limits, { size: 16 });
  assert.deepEqual([out.width, out.height], [100, 300]);
  // The crop's edge rows sit on the stripes' borders, where the resampling kernel reaches a little across.
  near(pixel(out.image, 8, 0), GREEN, 0.12, 'tall, top row of the crop');
  near(pixel(out.image, 8, 8), GREEN, 0.01, 'tall, middle of the crop');
  near(pixel(out.image, 8, 15), GREEN, 0.12, 'tall, bottom row of the crop');
});

test('EXIF orientation is applied before the crop: a photo taken sideways is decoded upright', async () => {
  // Stored 40x20, red left, blue right; orientation 6 means "rotate 90 degrees clockwise to display".
  const stored = await (await stripes([RED, BLUE], 20, 20)).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  assert.equal((await sharp(stored).metadata()).orientation, 6);
  const out = await decodeImage(stored, limits, { size: 8 });
  assert.deepEqual([out.width, out.height], [20, 40]);
  // Displayed 20x40: red on top, blue below; the centre-cropped square holds both halves.
  near(pixel(out.image, 4, 0), RED, 0.1, 'top');
  near(pixel(out.image, 4, 7), BLUE, 0.1, 'bottom');
  const header = await readImageHeader(stored, limits);
  assert.deepEqual([header.width, header.height], [20, 40]);
});

test('alpha is flattened on white, grey and CMYK become sRGB, 16-bit becomes [0, 1]', async () => {
  const transparent = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
  near(pixel((await decodeImage(transparent, limits, { size: 4 })).image, 1, 1), [255, 255, 255], 0.01, 'transparent on white');

  const grey = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 128, g: 128, b: 128 } } }).toColourspace('b-w').png().toBuffer();
  assert.equal((await sharp(grey).metadata()).channels, 1);
  near(pixel((await decodeImage(grey, limits, { size: 4 })).image, 2, 2), [128, 128, 128], 0.01, 'grey to three channels');

  const orange: Rgb = [230, 120, 30];
  const cmyk = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: orange[0], g: orange[1], b: orange[2] } } }).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  // Through a CMYK profile and back: close, not exact (orange is at the edge of the CMYK gamut).
  near(pixel((await decodeImage(cmyk, limits, { size: 4 })).image, 2, 2), orange, 0.1, 'CMYK to sRGB');

  const deep = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 255, g: 0, b: 64 } } }).toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(deep).metadata()).depth, 'ushort');
  near(pixel((await decodeImage(deep, limits, { size: 4 })).image, 1, 1), [255, 0, 64], 0.01, '16-bit');
});

test('the OCR image is a grey PNG of the whole image at a readable size', async () => {
  const photo = await (await stripes([RED, GREEN, BLUE], 100, 200)).jpeg().toBuffer();
  const { ocrPng } = await decodeImage(photo, limits, { size: 8, ocr: true });
  const meta = await sharp(ocrPng!).metadata();
  // 300x200 enlarged to a long side of 1000, the aspect kept; one grey channel.
  assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', 1000, 667, 1]);
  const big = await sharp({ create: { width: 4000, height: 1000, channels: 3, background: 'white' } }).png().toBuffer();
  const reduced = await sharp(await imageToOcrPng(big, limits, { maxSide: 1600 })).metadata();
  assert.deepEqual([reduced.width, reduced.height], [1600, 400]);
});

test('an image over the pixel limit is refused from its header, before any pixel is decoded', async () => {
  const bomb = pngBomb(8000, 8000); // 64 MP of zeros, a few KB compressed
  assert.ok(bomb.length < 200_000, `${bomb.length} bytes`);
  const started = Date.now();
  await assert.rejects(decodeImage(bomb, limits, { size: 8 }), (err: unknown) => err instanceof MediaError && err.code === 'TOO_MANY_PIXELS' && /8000x8000/.test(err.message));
  assert.ok(Date.now() - started < 2000);
  // The same image is decoded when the limit allows it: the refusal was the limit, not the file.
  const small = pngBomb(1000, 1000);
  assert.equal((await decodeImage(small, mediaLimits({ maxPixels: 1_000_000 }), { size: 4 })).width, 1000);
  await assert.rejects(decodeImage(small, mediaLimits({ maxPixels: 999_999 }), { size: 4 }), (err: unknown) => err instanceof MediaError && err.code === 'TOO_MANY_PIXELS');
  await assert.rejects(decodeImage(small, mediaLimits({ maxBytes: 100 }), { size: 4 }), (err: unknown) => err instanceof MediaError && err.code === 'TOO_LARGE');
});
