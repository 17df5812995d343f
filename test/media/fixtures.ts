/**
 * Real media made for the tests: images by sharp, videos and sounds by ffmpeg's lavfi sources, written to a private
 * directory. Nothing is checked in; every file is generated the same way on every run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import { TEMP_PREFIX } from '../../src/media/temp-file.js';

const require = createRequire(import.meta.url);
export const FFMPEG: string = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const run = promisify(execFile);

/** Runs the test's own ffmpeg command (generation, not the code under test). */
export async function ffmpeg(args: string[]): Promise<void> {
  await run(FFMPEG, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 60_000 });
}

export async function tempDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `memer-test-${name}-`));
}

/** The decoder's private directories left in `dir` (there must be none once decodes settle). */
export async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(TEMP_PREFIX));
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

/** ffmpeg children of this process still running (Linux /proc), by pid. */
export async function decoderChildren(): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const name of names.filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && Number(m[2]) === process.pid && /ffmpeg|ffprobe/.test(m[1])) found.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Three one-second segments, red, green, blue (25 fps), with a 440 Hz sine: the per-second colours are known. */
export async function colourVideo(dir: string, name = 'colours.mp4', extra: string[] = []): Promise<string> {
  const path = join(dir, name);
  const seg = (c: string, l: string) => `color=${c}:s=64x48:r=25:d=1[${l}]`;
  await ffmpeg([
    '-filter_complex',
    `${seg('red', 'a')};${seg('lime', 'b')};${seg('blue', 'c')};[a][b][c]concat=n=3:v=1:a=0[v];sine=frequency=440:sample_rate=44100:duration=3[s]`,
    '-map', '[v]', '-map', '[s]',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    ...extra,
    path,
  ]);
  return path;
}

/** A test pattern with a sine, in any container ffmpeg writes by extension. */
export async function patternVideo(dir: string, name: string, codecs: string[], seconds = 2, size = '160x120'): Promise<string> {
  const path = join(dir, name);
  await ffmpeg([
    '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`,
    ...codecs, path,
  ]);
  return path;
}

export async function sineAudio(dir: string, name: string, codecs: string[], opts: { seconds?: number; frequency?: number; channels?: number } = {}): Promise<string> {
  const { seconds = 2, frequency = 440, channels = 1 } = opts;
  const path = join(dir, name);
  await ffmpeg(['-f', 'lavfi', '-i', `sine=frequency=${frequency}:sample_rate=44100:duration=${seconds}`, '-ac', String(channels), ...codecs, path]);
  return path;
}

/** The frequency (Hz, to `step`) with the most energy in `samples`, by a scan of single-bin DFTs (Goertzel). */
export function dominantFrequency(samples: Float32Array, rate: number, from = 50, to = 4000, step = 5): number {
  let best = 0;
  let bestPower = -1;
  for (let f = from; f <= to; f += step) {
    const coeff = 2 * Math.cos((2 * Math.PI * f) / rate);
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < samples.length; i++) {
      const s0 = samples[i] + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    if (power > bestPower) [best, bestPower] = [f, power];
  }
  return best;
}

/** A PNG chunk with its CRC, for crafting headers the encoders would never write. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A well-formed grey PNG of width x height whose pixels are all zero: a few KB that decode to width*height bytes. */
export function pngBomb(width: number, height: number, declaredOnly = false): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth 1
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(width / 8);
  const rows = declaredOnly ? 1 : height;
  const idat = deflateSync(Buffer.alloc(rowBytes * rows), { level: 9 });
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** The byte offset of an ISO BMFF box type (e.g. 'mvhd') in an mp4, or -1. */
export const boxOffset = (mp4: Buffer, type: string) => mp4.indexOf(Buffer.from(type, 'latin1'));
