/**
 * `memer bench extract`: the content pipeline's throughput, each figure beside a baseline measured in the same run.
 *
 *   onnx    `memer extract --model` steps/s (read each item's .npy, widen float16, batch, run, average, write
 *           features/visual.npy) against raw onnxruntime running the same model on pre-assembled float32 batches. The
 *           model is a stand-in extractor (tanh(x W + b), ml/extract/synthetic.ts) over 3x32x32 steps to 512-d, far
 *           cheaper than a real CNN, so the ratio shows the command's own cost around the model.
 *   images  the built-in visual extractor on JPEGs, decoding (sharp) included, against raw onnxruntime running the same
 *           converted MobileNetV2 on the same images pre-decoded, one image per run (the run size the extractor uses:
 *           on CPU it is also the fastest, see docs/content-pipeline.md); then `memer extract --media` over a folder of
 *           them (files read, decoded `jobs` at once, features written).
 *   video   seconds of video per wall second: a generated 640x360 clip with sound, frames at 1 fps through the visual
 *           model, the track through the audio embedding (decoding included).
 *   upload  registerPost with an inline 224x224 JPEG over HTTP (a server in this process, a MEMER model trained on a
 *           simulated platform with the extractors' widths): p50 and p99 at concurrency 1 and 8.
 * Parameters (--set key=value): parts=onnx,images,video,upload; items=2000, steps=8, batch=64, dim=512 (onnx);
 * images=120 (images); videoSeconds=20 (video); uploads=60 (upload, per concurrency); threads=0 (onnxruntime
 * intra-op threads of the extractor runs; 0: one per core).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import '../ml/onnx/telemetry-off.js';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadConfig } from '../config/config.js';
import { simulate } from '../datasets/simulator/index.js';
import { importDataset } from '../domain/imports/import.service.js';
import { mediaLimitsOf } from '../domain/media/media.service.js';
import { activateVersion } from '../domain/training/activation.js';
import { trainOnDatabase } from '../domain/training/train.service.js';
import { createLogger } from '../lib/logger.js';
import { decodeMedia } from '../media/decode.js';
import { decodeImage } from '../media/image.js';
import { ContentExtractor } from '../ml/extract/content.js';
import { extractMediaFeatures } from '../ml/extract/media-batch.js';
import { visualModelOnnx } from '../ml/extract/visual.js';
import { startApp } from '../server/app.js';
import { floatsToHalves } from '../lib/float16.js';
import { writeNpy } from '../datasets/npy.js';
import { extractFeatures, inputPath } from '../ml/extract/extract.js';
import { tanhExtractorModel } from '../ml/extract/synthetic.js';
import { structuredVectors } from '../ml/retrieval/synthetic.js';
import { BenchArgError, percentile, positiveArg, withBaseline, type Bench, type BenchResult } from './harness.js';

const STEP = [3, 32, 32];

const PARTS = ['onnx', 'images', 'video', 'upload'] as const;
type Part = (typeof PARTS)[number];

export const bench: Bench = {
  summary: 'the content pipeline: memer extract --model against raw onnxruntime; the built-in visual extractor (decoding included) against raw onnxruntime; video seconds per second; registerPost with an inline JPEG',
  async run(args, log) {
    const parts = (args.parts ?? PARTS.join(',')).split(',').map((p) => p.trim()) as Part[];
    for (const p of parts) if (!PARTS.includes(p)) throw new BenchArgError(`--set parts=${args.parts}: "${p}" is not one of ${PARTS.join(', ')}`);
    const threads = args.threads === undefined ? 0 : Number(args.threads);
    if (!Number.isInteger(threads) || threads < 0) throw new BenchArgError(`--set threads=${args.threads}: expected an integer >= 0`);
    const results: BenchResult[] = [];
    if (parts.includes('onnx')) results.push(...(await onnxMode(args, log)));
    if (parts.includes('images')) results.push(...(await images(args, log, threads)));
    if (parts.includes('video')) results.push(...(await video(args, log, threads)));
    if (parts.includes('upload')) results.push(...(await upload(args, log)));
    return results;
  },
};

/** `memer extract --model` against raw onnxruntime on the same batches (the stand-in extractor). */
async function onnxMode(args: Record<string, string>, log: (line: string) => void): Promise<BenchResult[]> {
  const items = positiveArg(args, 'items', 2000, true);
  const steps = positiveArg(args, 'steps', 8, true);
  const batch = positiveArg(args, 'batch', 64, true);
  const dim = positiveArg(args, 'dim', 512, true);
  const stepSize = STEP.reduce((a, b) => a * b, 1);
  const dir = mkdtempSync(join(tmpdir(), 'memer-bench-extract-'));
  try {
    log(`writing ${items} items x ${steps} steps of [${STEP.join(', ')}] (float16)...`);
    const [dataset, inputs] = [join(dir, 'ds'), join(dir, 'raw')];
    mkdirSync(dataset);
    mkdirSync(inputs);
    writeFileSync(join(dataset, 'items.csv'), `item_id,created_at,media_type\n${Array.from({ length: items }, (_, i) => `v${i},${i},video`).join('\n')}\n`);
    const clip = structuredVectors(steps, stepSize, 7);
    const halves = floatsToHalves(clip, new Uint16Array(clip.length));
    for (let i = 0; i < items; i++) writeNpy(inputPath(inputs, `v${i}`), { dtype: 'float16', shape: [steps, ...STEP], data: halves });
    const model = tanhExtractorModel(STEP, structuredVectors(stepSize, dim, 8).map((x) => x * 0.02), new Float32Array(dim));
    const modelPath = join(dir, 'extractor.onnx');
    writeFileSync(modelPath, model);

    log('raw onnxruntime on pre-assembled batches...');
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    const total = items * steps;
    const feed = new ort.Tensor('float32', new Float32Array(batch * stepSize).fill(0.1), [batch, ...STEP]);
    await session.run({ x: feed });
    const t0 = performance.now();
    for (let done = 0; done < total; done += batch) await session.run({ x: feed });
    const raw = total / ((performance.now() - t0) / 1000);
    await session.release();

    log('memer extract...');
    const summary = await extractFeatures({ dataset, modality: 'visual', models: [{ mediaType: 'all', path: modelPath }], inputs, batch, dtype: 'float32', provider: 'cpu', threads: 0 });
    const baseline = { name: `raw onnxruntime, batches of ${batch} pre-assembled`, value: raw };
    return [
      withBaseline({ name: `extract steps/s (${items} items x ${steps} steps of ${STEP.join('x')} -> ${dim}-d, batch ${batch}: read, run, average, write)`, value: summary.steps / summary.seconds, unit: 'steps/s' }, baseline),
      { name: 'extract items/s', value: summary.items / summary.seconds, unit: 'items/s' },
      // What the command adds per item on top of the model's own runs: with a real extractor (milliseconds per step)
      // this, not the ratio above, is the figure that matters.
      { name: 'extract time per item beyond raw onnxruntime', value: (summary.seconds / items - steps / raw) * 1000, unit: 'ms' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` JPEGs of 640x480: gradients and shapes in colours that vary by image (what a camera gives, roughly). */
async function jpegs(count: number): Promise<Buffer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const hue = (i * 47) % 360;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><defs><linearGradient id="g"><stop offset="0" stop-color="hsl(${hue},70%,40%)"/><stop offset="1" stop-color="hsl(${(hue + 120) % 360},60%,70%)"/></linearGradient></defs><rect width="640" height="480" fill="url(#g)"/><circle cx="${120 + (i % 5) * 90}" cy="${100 + (i % 3) * 120}" r="${40 + (i % 4) * 20}" fill="hsl(${(hue + 200) % 360},80%,50%)"/></svg>`;
      return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
    }),
  );
}

/** Items `done` per second of `fn`, run with `concurrency` in flight. */
async function rate(total: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, async () => {
    for (let i = next++; i < total; i = next++) await fn(i);
  }));
  return total / ((performance.now() - t0) / 1000);
}

async function images(args: Record<string, string>, log: (line: string) => void, threads: number): Promise<BenchResult[]> {
  const count = positiveArg(args, 'images', 120, true);
  const limits = mediaLimitsOf(loadConfig({}));
  log(`generating ${count} 640x480 JPEGs...`);
  const files = await jpegs(count);
  const decoded = await Promise.all(files.map(async (f) => (await decodeImage(f, limits, { size: 224 })).image));

  log('raw onnxruntime on the pre-decoded images...');
  const session = await ort.InferenceSession.create(await visualModelOnnx(), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const [input] = session.inputNames;
  const feed = (i: number) => ({ [input]: new ort.Tensor('float32', decoded[i % count].data, [1, 224, 224, 3]) });
  await session.run(feed(0));
  const raw = await rate(count, 1, (i) => session.run(feed(i)));
  await session.release();

  log('the content extractor: decode + visual model, 2 in flight...');
  const extractor = await ContentExtractor.open({ threads, ocr: false });
  const want = new Set(['visual'] as const);
  const options = { ...extractor.decodeOptions(want), expect: ['image' as const] };
  let ours: number;
  try {
    await extractor.extract(await decodeMedia(files[0], limits, options), null, want);
    ours = await rate(count, 2, async (i) => extractor.extract(await decodeMedia(files[i], limits, options), null, want));
  } finally {
    await extractor.close();
  }

  log('memer extract --media over a folder of them...');
  const dir = mkdtempSync(join(tmpdir(), 'memer-bench-media-'));
  let batch: number;
  try {
    const [ds, rawDir] = [join(dir, 'ds'), join(dir, 'raw')];
    mkdirSync(ds);
    mkdirSync(rawDir);
    writeFileSync(join(ds, 'items.csv'), `item_id,created_at,media_type\n${files.map((_, i) => `p${i},${i},image`).join('\n')}\n`);
    files.forEach((f, i) => writeFileSync(join(rawDir, `p${i}.jpg`), f));
    const summary = await extractMediaFeatures({ dataset: ds, media: rawDir, limits, fps: 1, provider: 'cpu', threads, dtype: 'float32', ocr: false });
    batch = summary.items / summary.seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const baseline = { name: 'raw onnxruntime, the same images pre-decoded, one per run', value: raw };
  return [
    withBaseline({ name: `visual extractor images/s (${count} 640x480 JPEGs: decode, resize, MobileNetV2), 2 in flight`, value: ours, unit: 'images/s' }, baseline),
    withBaseline({ name: `memer extract --media images/s (${availableParallelism()} jobs: read, decode, extract, write)`, value: batch, unit: 'images/s' }, baseline),
  ];
}

async function video(args: Record<string, string>, log: (line: string) => void, threads: number): Promise<BenchResult[]> {
  const seconds = positiveArg(args, 'videoSeconds', 20, true);
  const limits = mediaLimitsOf(loadConfig({}));
  const dir = mkdtempSync(join(tmpdir(), 'memer-bench-video-'));
  try {
    log(`generating a ${seconds} s 640x360 clip with sound...`);
    const path = join(dir, 'clip.mp4');
    const { path: ffmpeg } = (await import('@ffmpeg-installer/ffmpeg')).default as { path: string };
    await runFfmpegBinary(ffmpeg, ['-f', 'lavfi', '-i', `testsrc=size=640x360:rate=30:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', path]);
    const extractor = await ContentExtractor.open({ threads, ocr: false });
    try {
      const want = new Set(['visual', 'audio'] as const);
      const t0 = performance.now();
      const decoded = await decodeMedia({ path }, limits, { ...extractor.decodeOptions(want), expect: ['video'] });
      const decodedAt = performance.now();
      const f = await extractor.extract(decoded, null, want);
      const wall = (performance.now() - t0) / 1000;
      if (!f.visual || !f.audio) throw new Error('the clip gave no visual or no audio feature');
      return [
        { name: `video seconds per wall second (${seconds} s 640x360 H.264 + AAC, 1 fps: decode, MobileNetV2 per frame, pooled; log-mel audio)`, value: seconds / wall, unit: 'x' },
        { name: 'video: share of the time decoding (frames and audio)', value: (decodedAt - t0) / 1000 / wall, unit: 'fraction' },
      ];
    } finally {
      await extractor.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bench's own ffmpeg run (making a test clip, not the code measured). */
async function runFfmpegBinary(binary: string, args: string[]): Promise<void> {
  const { execFile } = await import('node:child_process');
  await new Promise<void>((resolve, reject) => execFile(binary, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 120_000 }, (err) => (err ? reject(err) : resolve())));
}

async function upload(args: Record<string, string>, log: (line: string) => void): Promise<BenchResult[]> {
  const total = positiveArg(args, 'uploads', 60, true);
  const dir = mkdtempSync(join(tmpdir(), 'memer-bench-upload-'));
  const config = loadConfig({}, { databaseUrl: `file:${join(dir, 'memer.db')}`, modelDir: join(dir, 'models'), port: 0, logLevel: 'error', executionProvider: 'cpu' });
  const app = await startApp(config, createLogger('error', () => undefined), { warmExtractors: true });
  try {
    log('training a MEMER model on a simulated platform with the extractors\' widths...');
    await simulate(join(dir, 'data'), { seed: 3, users: 200, posts: 300, interactions: 12_000, dims: { videoVisual: 1280, imageVisual: 1280, audio: 128, text: 8 }, writeLatent: false });
    await importDataset(app.services.db, app.services.config, join(dir, 'data'));
    const trained = await trainOnDatabase(app.services, { signals: ['click'], fixedThreshold: 6, ffm: { epochs: 3 }, memer: { training: { maxEpochs: 3 } }, seed: 3, version: 'bench' });
    await activateVersion(app.services, trained.versions.find((v) => v.kind === 'FFM')!.version);
    await app.services.refresh();
    const key = (await app.services.keys.create(['write'], 'bench')).key;
    const photos = (await jpegs(16)).map(async (j) => (await sharp(j).resize(224, 224).jpeg({ quality: 85 }).toBuffer()).toString('base64'));
    const inline = await Promise.all(photos);
    const query = 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { source } } }';
    let n = 0;
    const one = async () => {
      const body = JSON.stringify({ query, variables: { i: { id: `bench-${n}`, mediaType: 'IMAGE', media: { base64: inline[n++ % inline.length] } } } });
      const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
      const r = (await res.json()) as { data?: { registerPost: { servingSources: { source: string }[] } }; errors?: unknown };
      if (r.errors || r.data!.registerPost.servingSources[0].source !== 'MEMER') throw new Error(`registerPost failed: ${JSON.stringify(r.errors ?? r.data)}`);
    };
    for (let i = 0; i < 8; i++) await one(); // warm: the extractors, the model, the connection
    const results: BenchResult[] = [];
    for (const c of [1, 8]) {
      log(`registerPost with an inline 224x224 JPEG, concurrency ${c}...`);
      const latencies: number[] = [];
      const t0 = performance.now();
      let next = 0;
      await Promise.all(Array.from({ length: c }, async () => {
        while (next++ < total) {
          const t = performance.now();
          await one();
          latencies.push(performance.now() - t);
        }
      }));
      const seconds = (performance.now() - t0) / 1000;
      results.push({ name: `registerPost inline 224x224 JPEG c=${c}: p50`, value: percentile(latencies, 50), unit: 'ms' });
      results.push({ name: `registerPost inline 224x224 JPEG c=${c}: p99`, value: percentile(latencies, 99), unit: 'ms' });
      results.push({ name: `registerPost inline 224x224 JPEG c=${c}: throughput`, value: total / seconds, unit: 'posts/s' });
    }
    return results;
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
