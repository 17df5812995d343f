import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { OcrError, OcrReader } from '../../../src/ml/extract/ocr.js';

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Text rendered by librsvg (sharp's SVG input) with a system font: 64 px bold, dark on a light background. */
async function textImage(lines: string[], width = 900, background = 'white'): Promise<Buffer> {
  const height = 80 + lines.length * 90;
  const text = lines
    .map((line, i) => `<text x="40" y="${110 + i * 90}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="64" font-weight="bold" fill="#111">${escapeXml(line)}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="${background}"/>${text}</svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  // Without a system font librsvg draws nothing: say so rather than fail as an OCR miss.
  const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  assert.ok(data.some((v) => v < 80), 'the SVG text rendered no dark pixel: this machine has no font for librsvg (install e.g. fonts-dejavu-core)');
  return png;
}

const words = (text: string) => text.toLowerCase().split(/\s+/).filter(Boolean);

describe('OCR: tesseract.js with the eng data from node_modules', () => {
  let reader: OcrReader;
  let openMs = 0;
  before(async () => {
    const start = performance.now();
    reader = await OcrReader.open({ workers: 2 });
    openMs = performance.now() - start;
  });
  after(async () => {
    await reader.close();
  });

  test('reads a generated image of text (case-insensitive words), and reports the time per image', async (t) => {
    const png = await textImage(['MEMER CATS 2026']);
    await reader.read(png); // the first read of a worker loads its model pages
    const start = performance.now();
    const got = await reader.read(png);
    const ms = performance.now() - start;
    assert.deepEqual(words(got.text), ['memer', 'cats', '2026'], got.text);
    assert.ok(got.confidence > 0.7 && got.confidence <= 1, `confidence ${got.confidence}`);
    // A video-frame sized image: two lines on a coloured background.
    const frame = await textImage(['funny dogs', 'skate park'], 640, '#f5e6a8');
    const frameStart = performance.now();
    const lines = await reader.read(frame);
    const frameMs = performance.now() - frameStart;
    assert.deepEqual(lines.text.toLowerCase().split('\n'), ['funny dogs', 'skate park']);
    t.diagnostic(`OCR: open (2 workers) ${openMs.toFixed(0)} ms; ${ms.toFixed(0)} ms for a 900x170 line, ${frameMs.toFixed(0)} ms for a 640x260 two-line image (one worker each)`);
  });

  test('an image without text reads as empty text with confidence 0', async () => {
    const solid = await sharp({ create: { width: 640, height: 360, channels: 3, background: { r: 120, g: 180, b: 90 } } }).png().toBuffer();
    const ramp = Buffer.alloc(640 * 360 * 3);
    for (let i = 0; i < 640 * 360; i++) ramp.fill(Math.floor(((i % 640) / 640) * 255), i * 3, i * 3 + 3);
    const gradient = await sharp(ramp, { raw: { width: 640, height: 360, channels: 3 } }).png().toBuffer();
    for (const png of [solid, gradient]) assert.deepEqual(await reader.read(png), { text: '', confidence: 0 });
  });

  test('reads run on both workers at once and each gets its own answer', async () => {
    const images = await Promise.all(['RED APPLE', 'BLUE SKY', 'GREEN TEA', 'HOT SOUP'].map((s) => textImage([s])));
    assert.equal(reader.workers, 2);
    const got = await Promise.all(images.map((png) => reader.read(png)));
    assert.deepEqual(got.map((r) => r.text.toLowerCase()), ['red apple', 'blue sky', 'green tea', 'hot soup']);
  });

  test('typed errors: not an image, a corrupt PNG, bad options, a closed reader', async () => {
    const isOcr = (code: string) => (e: unknown) => e instanceof OcrError && e.code === code;
    await assert.rejects(reader.read(Buffer.from('hello, not an image')), isOcr('BAD_IMAGE'));
    await assert.rejects(reader.read('/etc/passwd' as unknown as Buffer), isOcr('BAD_IMAGE'));
    const png = await textImage(['OK']);
    await assert.rejects(reader.read(Buffer.concat([png.subarray(0, 8), Buffer.alloc(300, 7)])), isOcr('OCR_FAILED'));
    await assert.rejects(reader.read(png.subarray(0, 60)), isOcr('OCR_FAILED'));
    // The workers survive a failed read.
    assert.deepEqual(words((await reader.read(png)).text), ['ok']);
    await assert.rejects(OcrReader.open({ workers: 0 }), isOcr('BAD_PARAM'));
    const one = await OcrReader.open();
    const pending = assert.rejects(one.read(png), isOcr('CLOSED')); // a read in flight when close() is called
    await one.close();
    await pending;
    await assert.rejects(one.read(png), isOcr('CLOSED'));
    await one.close(); // idempotent
  });
});

/**
 * A preload (--require, so that it runs in every worker thread too, where tesseract lives; --import would not) that
 * blocks and logs any TCP connect, DNS lookup or fetch: the process can reach no host, and the log shows whether
 * anything tried.
 */
const GUARD = String.raw`
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const { threadId } = require('node:worker_threads');
const log = (line) => fs.appendFileSync(process.env.GUARD_LOG, line + '\n');
log('loaded ' + threadId);
const blocked = (what) => { log('BLOCKED ' + threadId + ' ' + what); return new Error('network blocked by the test: ' + what); };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // Local IPC (a Unix socket path: tsx talks to its parent this way) is not network; TCP to any host is.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === 'string' || (first && typeof first === 'object' && typeof first.path === 'string')) return connect.apply(this, args);
  const e = blocked('connect ' + JSON.stringify(first));
  process.nextTick(() => this.destroy(e));
  return this;
};
dns.lookup = (host, ...rest) => { const cb = rest[rest.length - 1]; process.nextTick(() => cb(blocked('dns ' + host))); };
dns.promises.lookup = async (host) => { throw blocked('dns ' + host); };
globalThis.fetch = async (url) => { throw blocked('fetch ' + String(url)); };
`;

test('OCR touches no network and writes no cache file (child process with sockets, DNS and fetch blocked)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'memer-ocr-offline-'));
  try {
    const guard = join(dir, 'guard.cjs');
    const script = join(dir, 'run.mts');
    const log = join(dir, 'guard.log');
    writeFileSync(guard, GUARD);
    const ocrUrl = pathToFileURL(fileURLToPath(new URL('../../../src/ml/extract/ocr.ts', import.meta.url))).href;
    writeFileSync(
      script,
      `const { default: sharp } = await import(${JSON.stringify(import.meta.resolve('sharp'))});
       const { OcrReader } = await import(${JSON.stringify(ocrUrl)});
       // The guard works: a probe in this thread is blocked (the log's one expected BLOCKED line).
       const probe = await fetch('http://example.com/probe').then(() => 'reached', (e) => 'blocked');
       const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="700" height="160"><rect width="100%" height="100%" fill="white"/><text x="30" y="105" font-family="DejaVu Sans, sans-serif" font-size="64" font-weight="bold">OFFLINE OCR</text></svg>';
       const png = await sharp(Buffer.from(svg)).png().toBuffer();
       const reader = await OcrReader.open();
       const got = await reader.read(png);
       await reader.close();
       console.log(JSON.stringify({ probe, text: got.text }));`,
    );
    const tsx = import.meta.resolve('tsx');
    // Run in `dir`, to see what is written there; every import is by absolute URL.
    const res = spawnSync(process.execPath, ['--require', guard, '--import', tsx, script], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, GUARD_LOG: log },
    });
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!);
    assert.equal(out.probe, 'blocked');
    assert.deepEqual(words(out.text), ['offline', 'ocr']);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // Loaded in the main thread and in tesseract's worker thread; blocked only the probe.
    assert.ok(lines.some((l) => /^loaded [1-9]/.test(l)), lines.join('\n'));
    assert.deepEqual(lines.filter((l) => l.startsWith('BLOCKED')).map((l) => l.split(' ').slice(0, 3).join(' ')), ['BLOCKED 0 fetch']);
    assert.deepEqual(readdirSync(dir).sort(), ['guard.cjs', 'guard.log', 'run.mts']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
