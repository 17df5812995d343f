/**
 * `memer bench extract`: `memer extract`'s throughput (steps/s: read each item's .npy, widen float16, batch, run,
 * average, write features/visual.npy) against raw onnxruntime running the same model on pre-assembled float32 batches
 * of the same size, in the same run. The model is a stand-in extractor (tanh(x W + b), ml/extract/synthetic.ts) over
 * 3x32x32 steps to 512-d, far cheaper than a real CNN, so the ratio shows the command's own cost around the model;
 * the time per item beyond raw onnxruntime is that cost in absolute terms.
 * Parameters (--set key=value): items=2000, steps=8 (per item), batch=64, dim=512.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { floatsToHalves } from '../lib/float16.js';
import { writeNpy } from '../datasets/npy.js';
import { extractFeatures, inputPath } from '../ml/extract/extract.js';
import { tanhExtractorModel } from '../ml/extract/synthetic.js';
import { structuredVectors } from '../ml/retrieval/synthetic.js';
import { positiveArg, withBaseline, type Bench } from './harness.js';

const STEP = [3, 32, 32];

export const bench: Bench = {
  summary: 'memer extract steps/s (read, batch, run, average, write) against raw onnxruntime on the same batches',
  async run(args, log) {
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
  },
};
