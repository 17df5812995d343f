import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, mock, test } from 'node:test';
import { parseArgs } from 'node:util';
import { CliError, ExitCode, type Command } from '../../src/cli/command.js';
import { command as extractCommand } from '../../src/cli/commands/extract.js';
import { DatasetError } from '../../src/datasets/errors.js';
import { featurePresence, readFeatures } from '../../src/datasets/features.js';
import { writeNpy } from '../../src/datasets/npy.js';
import { floatsToHalves } from '../../src/datasets/float16.js';
import { extractFeatures, inputPath, type ExtractOptions } from '../../src/ml/extract/extract.js';
import { tanhExtractorModel as extractorModel } from '../../src/ml/extract/synthetic.js';
import { mipsTopKModel } from '../../src/ml/retrieval/mips-graph.js';

/** The reference: the mean over steps of tanh(x_s @ W + b). */
function expected(steps: Float32Array[], w: Float32Array, b: Float32Array): number[] {
  const dim = b.length;
  const out = new Array(dim).fill(0);
  for (const x of steps) {
    for (let k = 0; k < dim; k++) {
      let z = b[k];
      for (let j = 0; j < x.length; j++) z += x[j] * w[j * dim + k];
      out[k] += Math.tanh(z) / steps.length;
    }
  }
  return out;
}

const seq = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const rows = (data: Float32Array | Uint16Array, dim: number, i: number) => Array.from(data.subarray(i * dim, (i + 1) * dim));

describe('memer extract: content features from raw inputs through ONNX extractors', () => {
  let root: string;
  let dataset: string;
  let inputs: string;
  const videoW = seq(24, (i) => Math.sin(i * 0.7) * 0.5);
  const videoB = seq(4, (i) => 0.1 * i - 0.15);
  const imageW = seq(30, (i) => Math.cos(i * 0.3) * 0.4);
  const imageB = seq(6, (i) => 0.05 * i);
  // Raw inputs: v1 three frames of [2, 3]; v2 one frame without a time axis (float16); "a/b c" two frames; i1 one
  // image of [5] with a time axis of 1; i2 has no input file.
  const frames = { v1: [0, 1, 2].map((t) => seq(6, (i) => (i - 2.5) * 0.3 + t)), v2: [seq(6, (i) => i * 0.25 - 0.5)], 'a/b c': [0, 1].map((t) => seq(6, (i) => 0.2 * t - i * 0.1)), i1: [seq(5, (i) => 1 - i * 0.4)] };
  const options = (over: Partial<ExtractOptions> = {}): ExtractOptions => ({
    dataset, modality: 'visual', inputs, batch: 2, dtype: 'float32', provider: 'cpu', threads: 1,
    models: [{ mediaType: 'video', path: join(root, 'video.onnx') }, { mediaType: 'image', path: join(root, 'image.onnx') }],
    ...over,
  });

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'memer-extract-'));
    dataset = join(root, 'ds');
    inputs = join(root, 'raw');
    mkdirSync(dataset);
    mkdirSync(inputs);
    writeFileSync(join(dataset, 'items.csv'), 'item_id,created_at,media_type\nv1,1,video\ni1,2,image\nv2,3,video\ni2,4,image\na/b c,5,video\n');
    writeFileSync(join(root, 'video.onnx'), extractorModel([2, 3], videoW, videoB));
    writeFileSync(join(root, 'image.onnx'), extractorModel([5], imageW, imageB));
    const f32 = (steps: Float32Array[], timed = true) => ({ dtype: 'float32' as const, shape: timed ? [steps.length, ...(steps[0].length === 6 ? [2, 3] : [5])] : [2, 3], data: Float32Array.from(steps.flatMap((s) => Array.from(s))) });
    writeNpy(inputPath(inputs, 'v1'), f32(frames.v1));
    const v2 = frames.v2[0];
    writeNpy(inputPath(inputs, 'v2'), { dtype: 'float16', shape: [2, 3], data: floatsToHalves(v2, new Uint16Array(6)) });
    writeNpy(inputPath(inputs, 'a/b c'), f32(frames['a/b c']));
    writeNpy(inputPath(inputs, 'i1'), f32(frames.i1));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('each row is the mean over its steps of the model output, zero-padded to the widest model; missing items are zero rows', async () => {
    const summary = await extractFeatures(options());
    assert.deepEqual(summary.extracted, { video: 3, image: 1 });
    assert.equal(summary.missing, 1);
    assert.equal(summary.width, 6);
    assert.deepEqual(summary.dims, { video: 4, image: 6 });
    assert.equal(summary.steps, 3 + 1 + 1 + 2);
    assert.ok(summary.runs >= 4, `batches of 2 steps: ${summary.runs} runs`);
    const { visual } = await readFeatures(dataset, 5, ['visual']);
    assert.ok(visual && visual.dtype === 'float32' && visual.dim === 6);
    const close = (got: number[], want: number[]) => got.forEach((g, k) => assert.ok(Math.abs(g - want[k]) < 1e-5, `dim ${k}: ${g} vs ${want[k]}`));
    // v2 was stored as float16: the reference reads the same rounded values.
    const v2Halved = Float32Array.from(frames.v2[0], (x) => Math.fround(x));
    close(rows(visual.data, 6, 0), [...expected(frames.v1, videoW, videoB), 0, 0]);
    close(rows(visual.data, 6, 1), expected(frames.i1, imageW, imageB));
    close(rows(visual.data, 6, 2), [...expected([v2Halved], videoW, videoB), 0, 0]);
    assert.deepEqual(rows(visual.data, 6, 3), [0, 0, 0, 0, 0, 0]);
    close(rows(visual.data, 6, 4), [...expected(frames['a/b c'], videoW, videoB), 0, 0]);
    assert.deepEqual(Array.from(featurePresence(visual)), [1, 1, 1, 0, 1]);
    // The mean of outputs, not the output of the mean frame (the model is nonlinear).
    const meanFrame = frames.v1[0].map((_, j) => (frames.v1[0][j] + frames.v1[1][j] + frames.v1[2][j]) / 3);
    assert.ok(Math.abs(expected([meanFrame], videoW, videoB)[0] - visual.data[0]) > 1e-3);
  });

  test('the batch size does not change the rows; a media type without a model is missing; float16 output on request', async () => {
    await extractFeatures(options({ batch: 1 }));
    const one = readFileSync(join(dataset, 'features', 'visual.npy'));
    await extractFeatures(options({ batch: 7 }));
    assert.ok(one.equals(readFileSync(join(dataset, 'features', 'visual.npy'))), 'batch 1 and batch 7 write the same bytes');

    const videoOnly = await extractFeatures(options({ models: [{ mediaType: 'video', path: join(root, 'video.onnx') }], dtype: 'float16' }));
    assert.deepEqual(videoOnly.extracted, { video: 3, image: 0 });
    assert.equal(videoOnly.missing, 2);
    assert.equal(videoOnly.width, 4);
    const { visual } = await readFeatures(dataset, 5, ['visual']);
    assert.ok(visual && visual.dtype === 'float16' && visual.dim === 4);
    assert.deepEqual(Array.from(featurePresence(visual)), [1, 0, 1, 0, 1]);
  });

  test('an input that does not fit its model is an error naming the file; the previous features file is kept', async () => {
    await extractFeatures(options());
    const before = readFileSync(join(dataset, 'features', 'visual.npy'));
    // One model for all media types: the image i1 ([1, 5]) does not fit the video model's [2, 3] steps.
    await assert.rejects(extractFeatures(options({ models: [{ mediaType: 'all', path: join(root, 'video.onnx') }] })), (err: unknown) => {
      assert.ok(err instanceof DatasetError);
      assert.equal(err.file, inputPath(inputs, 'i1'));
      assert.match(err.message, /does not fit the extractor's input \[2, 3\]/);
      return true;
    });
    assert.ok(before.equals(readFileSync(join(dataset, 'features', 'visual.npy'))), 'the old file is untouched');
    assert.deepEqual(readdirSync(join(dataset, 'features')), ['visual.npy'], 'no partial file is left');

    writeFileSync(join(root, 'mips.onnx'), mipsTopKModel({ dim: 4, masked: false }));
    await assert.rejects(extractFeatures(options({ models: [{ mediaType: 'all', path: join(root, 'mips.onnx') }] })), /takes one input, this model has 3/);
    writeFileSync(join(root, 'garbage.onnx'), 'not a model');
    await assert.rejects(extractFeatures(options({ models: [{ mediaType: 'all', path: join(root, 'garbage.onnx') }] })), (err: unknown) => err instanceof DatasetError && /cannot load it/.test(err.message));
    await assert.rejects(extractFeatures(options({ inputs: join(root, 'nowhere') })), RangeError);
  });

  test('the command: --json summary, and exit codes 2 (usage) and 3 (bad input)', async () => {
    const run = async (args: string[]) => {
      const parsed = parseArgs({ args, options: extractCommand.options, allowPositionals: true, strict: true });
      const log = mock.method(console, 'log', () => {});
      try {
        const code = await extractCommand.run(parsed as Parameters<Command['run']>[0]);
        return { code, out: log.mock.calls.map((c) => String(c.arguments[0])) };
      } catch (err) {
        return { code: err instanceof CliError ? err.code : -1, out: [(err as Error).message] };
      } finally {
        log.mock.restore();
      }
    };
    const base = [dataset, '--modality', 'visual', '--inputs', inputs, '--provider', 'cpu'];
    const ok = await run([...base, '--model', `video=${join(root, 'video.onnx')}`, '--model', `image=${join(root, 'image.onnx')}`, '--json']);
    assert.equal(ok.code, ExitCode.OK, ok.out.join('\n'));
    const summary = JSON.parse(ok.out[0]);
    assert.deepEqual([summary.items, summary.width, summary.missing, summary.provider], [5, 6, 1, 'cpu']);
    assert.equal((await run([...base, '--model', `audio=${join(root, 'video.onnx')}`])).code, ExitCode.USAGE);
    assert.equal((await run([...base])).code, ExitCode.USAGE);
    assert.equal((await run([...base, '--model', join(root, 'video.onnx'), '--batch', '0'])).code, ExitCode.USAGE);
    const bad = await run([...base, '--model', join(root, 'video.onnx')]);
    assert.equal(bad.code, ExitCode.BAD_INPUT);
    assert.match(bad.out[0], /i1\.npy/);
    assert.ok(!existsSync(join(dataset, 'features', 'visual.npy.partial')));
  });
});
