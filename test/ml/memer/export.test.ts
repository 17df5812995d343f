/**
 * Export: the standalone inference .onnx, loaded and run by a fresh process, reproduces the training-time forward
 * pass (the reference evaluation of the training graph with the trained weights, and the ONNX evaluation graph) to
 * 1e-5, and carries signal, media type, modalities, normalisation, metrics and version in metadata_props.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeInferenceModel, readMemerInfo } from '../../../src/ml/memer/export.js';
import { INPUT, OUTPUT } from '../../../src/ml/memer/model.js';
import { trainMemer, trainingSummary } from '../../../src/ml/memer/trainer.js';
import { evaluate } from '../../../src/ml/graph/reference.js';
import { toOnnx } from '../../../src/ml/graph/onnx.js';
import { closeness, runtime } from '../graph/helpers.js';
import { tinyConfig, tinyData, TINY_MODALITIES } from './fixtures.js';

test('exported model runs in a fresh process and matches the training-time forward pass to 1e-5', async () => {
  const data = tinyData();
  const base = tinyConfig();
  const config = { ...base, training: { ...base.training, maxEpochs: 3, patience: 5 } };
  const trained = await trainMemer(data, config);
  const dir = mkdtempSync(join(tmpdir(), 'memer-export-'));
  try {
    const path = join(dir, 'memer.onnx');
    const bytes = await writeInferenceModel(path, trained, { signal: 'click', mediaType: 'video', version: 'v-test-1', metrics: trainingSummary(trained).best });
    const info = readMemerInfo(bytes);
    assert.equal(info.signal, 'click');
    assert.equal(info.mediaType, 'video');
    assert.equal(info.version, 'v-test-1');
    assert.deepEqual(info.modalities, TINY_MODALITIES);
    assert.deepEqual(info.inputs, ['visual', 'audio', 'text', 'presence', 'freq']);
    assert.deepEqual((info.metrics as { auc: number }).auc, trained.best!.auc);
    for (const spec of TINY_MODALITIES) assert.deepEqual(info.normalization[spec.modality]!.mean, trained.stats[spec.modality]!.mean);

    // Posts: one complete, one without audio, one with only visual.
    const rows = [0, 1, 2].map((i) => {
      const features: Record<string, number[]> = {};
      for (const spec of TINY_MODALITIES) {
        if ((i === 1 && spec.modality === 'audio') || (i === 2 && spec.modality !== 'visual')) continue;
        features[spec.modality] = Array.from(data.items.features[spec.modality]!.data.subarray(i * spec.dim, (i + 1) * spec.dim) as Float32Array);
      }
      return { features, freq: data.items.freq[i] };
    });
    writeFileSync(join(dir, 'posts.json'), JSON.stringify(rows));
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', new URL('./exported-runner.ts', import.meta.url).pathname, path, join(dir, 'posts.json')], { encoding: 'utf8' })) as {
      inputs: { name: string; shape: (number | string)[] }[]; batch: number[]; single: number[][]; runs: number;
    };
    assert.deepEqual(out.inputs.map((s) => s.shape), [['N', 5], ['N', 3], ['N', 2], ['N', 3], ['N', 1]]);
    assert.equal(out.runs, 1, 'three concurrent single requests share one run');

    // Training-time forward: the training graph, trained weights, same inputs (missing = zeros, presence 0).
    const n = rows.length;
    const feeds: Record<string, { data: Float32Array; shape: number[] }> = {};
    const presence = new Float32Array(n * TINY_MODALITIES.length);
    TINY_MODALITIES.forEach((spec, m) => {
      const x = new Float32Array(n * spec.dim);
      rows.forEach((r, i) => {
        const v = r.features[spec.modality];
        if (v) {
          x.set(v, i * spec.dim);
          presence[i * TINY_MODALITIES.length + m] = 1;
        }
      });
      feeds[spec.modality] = { data: x, shape: [n, spec.dim] };
    });
    feeds[INPUT.presence] = { data: presence, shape: [n, TINY_MODALITIES.length] };
    feeds[INPUT.freq] = { data: Float32Array.from(rows, (r) => r.freq), shape: [n, 1] };
    const g = trained.model.graph;
    const ref = evaluate(g, feeds, [OUTPUT.embedding], trained.weights).get(g.outputs.get(OUTPUT.embedding)!)!.data;
    const trainTime = await runtime.createSession(toOnnx(g, { outputs: [OUTPUT.embedding], params: 'inputs' }), 'train-time-forward');
    const f: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = { data: v.data, dims: v.shape };
    for (const p of g.params) if (trainTime.inputNames.includes(p.name)) f[p.name] = { data: trained.weights.get(p.name)!, dims: p.shape };
    const onnxTrainTime = (await trainTime.run(f))[OUTPUT.embedding].data;
    await trainTime.dispose();
    for (const [name, expected] of [['reference', ref], ['training-graph ONNX', onnxTrainTime]] as const) {
      const c = closeness(out.batch, expected, 1e-5, 0);
      assert.ok(c.worst <= 1, `exported vs ${name} at ${c.at}: ${out.batch[c.at]} vs ${expected[c.at]}`);
      const cs = closeness(out.single.flat(), expected, 1e-5, 0);
      assert.ok(cs.worst <= 1, `micro-batched exported vs ${name}`);
    }
    // Presence matters: the post without audio differs from one whose audio is "present" but all zeros.
    const pres2 = Float32Array.from(presence);
    pres2[1 * TINY_MODALITIES.length + 1] = 1;
    const flipped = evaluate(g, { ...feeds, [INPUT.presence]: { data: pres2, shape: [n, TINY_MODALITIES.length] } }, [OUTPUT.embedding], trained.weights).get(g.outputs.get(OUTPUT.embedding)!)!.data;
    assert.ok(closeness(flipped.subarray(4, 8), ref.subarray(4, 8), 1e-4, 0).worst > 1, 'presence bit should change the embedding');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
