/**
 * The layers-model converter, one layer kind (or fold) at a time: a tiny tfjs model with seeded weights is saved to
 * memory, converted, and run through onnxruntime on the same random input as tfjs.predict. Tolerance: 1e-5 + 1e-4 of
 * the output's largest magnitude (float32 rounding; the folded batch norms round once more). Folding is checked on
 * the ONNX op list: a batch norm folded into its conv leaves no Mul/Add, a zero padding folded into a conv no Pad.
 * A zero padding before a pool stays a Pad, and must stay one inside onnxruntime too (see poolWindow in onnx.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { readTfjsModelDir } from '../../../src/ml/extract/tfjs/artifacts.js';
import { TfjsConversionError } from '../../../src/ml/extract/tfjs/errors.js';
import { convertTfjsModel } from '../../../src/ml/extract/tfjs/convert.js';
import { Rng } from '../../../src/ml/graph/rng.js';
import { artifactsOf, maxAbs, maxAbsDiff, runOnnx, tf } from './tfjs-reference.js';

const L = tf.layers;

/** Seeded weights; variances and batch-norm scales kept positive and near 1. */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  model.setWeights(model.weights.map((w) => {
    const n = w.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (/variance/.test(w.originalName)) data[i] = rng.uniform(0.5, 2);
      else if (/gamma/.test(w.originalName)) data[i] = rng.uniform(0.5, 1.5);
      else data[i] = rng.uniform(-0.6, 0.6);
    }
    return tf.tensor(data, w.shape as number[]);
  }));
}

function opTypes(onnx: Uint8Array): string[] {
  return onnxProto.onnx.ModelProto.decode(onnx).graph!.node!.map((n) => n.opType!);
}

interface Case {
  name: string;
  input: number[];
  build: (x: tf.SymbolicTensor) => tf.SymbolicTensor | tf.SymbolicTensor[];
  /** ops the ONNX graph must not contain (folds), and ops it must */
  absent?: string[];
  present?: string[];
}

const conv = (filters: number, k: number, o: Partial<Parameters<typeof L.conv2d>[0]> = {}) => L.conv2d({ filters, kernelSize: k, ...o });
const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

const cases: Case[] = [
  { name: 'Conv2D same, stride 1, bias, relu', input: [9, 9, 3], build: (x) => apply(conv(4, 3, { padding: 'same', activation: 'relu' }), x) },
  { name: 'Conv2D same, stride 2 on 7x7 (asymmetric padding), relu6, no bias', input: [7, 7, 3], build: (x) => apply(conv(5, 3, { strides: 2, padding: 'same', useBias: false, activation: 'relu6' }), x) },
  { name: 'Conv2D valid, dilation 2, tanh', input: [9, 9, 2], build: (x) => apply(conv(3, 3, { dilationRate: 2, activation: 'tanh' }), x) },
  { name: 'Conv2D 1x2 kernel, stride [2, 1]', input: [6, 5, 3], build: (x) => apply(conv(2, [1, 2] as unknown as number, { strides: [2, 1] }), x) },
  { name: 'DepthwiseConv2D same, stride 2, multiplier 2, sigmoid', input: [8, 8, 3], build: (x) => apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, activation: 'sigmoid' }), x) },
  { name: 'SeparableConv2D same, multiplier 2, softplus', input: [7, 7, 3], build: (x) => apply(L.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', depthMultiplier: 2, activation: 'softplus' }), x) },
  {
    name: 'Conv2D -> BatchNormalization (folded) -> ReLU(6)', input: [8, 8, 3], absent: ['Mul', 'Add'],
    build: (x) => apply(L.reLU({ maxValue: 6 }), apply(L.batchNormalization({ epsilon: 1e-3 }), apply(conv(4, 3, { padding: 'same', useBias: false }), x))),
  },
  {
    name: 'DepthwiseConv2D -> BatchNormalization (folded)', input: [8, 8, 4], absent: ['Mul', 'Add'],
    build: (x) => apply(L.batchNormalization(), apply(L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: true }), x)),
  },
  {
    name: 'BatchNormalization on the input (not folded), then a conv', input: [6, 6, 3], present: ['Mul', 'Add'],
    build: (x) => apply(conv(2, 3), apply(L.batchNormalization(), x)),
  },
  {
    name: 'ZeroPadding2D [[0,1],[0,1]] -> Conv2D valid stride 2 (pad folded)', input: [8, 8, 3], absent: ['Pad'],
    build: (x) => apply(conv(4, 3, { strides: 2 }), apply(L.zeroPadding2d({ padding: [[0, 1], [0, 1]] }), x)),
  },
  {
    name: 'ZeroPadding2D -> MaxPooling2D (zeros are not -inf: Pad kept)', input: [6, 6, 2], present: ['Pad'],
    build: (x) => apply(L.maxPooling2d({ poolSize: 2 }), apply(L.zeroPadding2d({ padding: 1 }), x)),
  },
  {
    name: 'ZeroPadding2D -> AveragePooling2D same (the zeros count in the mean, the SAME padding does not)', input: [7, 7, 2], present: ['Pad'],
    build: (x) => apply(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), apply(L.zeroPadding2d({ padding: [[1, 0], [2, 1]] }), x)),
  },
  { name: 'AveragePooling2D 3, stride 2, same (padding excluded from the mean)', input: [8, 8, 3], build: (x) => apply(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x) },
  { name: 'MaxPooling2D 2 valid, then GlobalMaxPooling2D', input: [9, 9, 3], build: (x) => apply(L.globalMaxPooling2d({}), apply(L.maxPooling2d({ poolSize: 2 }), apply(conv(4, 3), x))) },
  { name: 'GlobalAveragePooling2D -> Dense softmax', input: [7, 7, 4], build: (x) => apply(L.dense({ units: 3, activation: 'softmax' }), apply(L.globalAveragePooling2d({}), apply(conv(5, 3), x))) },
  {
    name: 'Flatten of a 3x3x4 map (NHWC order) -> Dense -> BatchNormalization (folded into Dense)', input: [5, 5, 2], absent: ['Mul'],
    build: (x) => apply(L.batchNormalization(), apply(L.dense({ units: 6 }), apply(L.flatten(), apply(conv(4, 3), x)))),
  },
  {
    name: 'Add, Multiply, Average of conv branches, Concatenate on channels, Softmax on channels', input: [6, 6, 3],
    build: (x) => {
      const a = apply(conv(4, 3, { padding: 'same' }), x);
      const b = apply(conv(4, 1), x);
      const sum = apply(L.add(), [a, b]);
      const prod = apply(L.multiply(), [a, b]);
      const avg = apply(L.average(), [sum, prod]);
      return apply(L.softmax({ axis: -1 }), apply(L.concatenate({ axis: -1 }), [avg, b]));
    },
  },
  { name: 'Concatenate on the width axis', input: [4, 5, 2], build: (x) => apply(L.concatenate({ axis: 2 }), [apply(conv(3, 1), x), apply(conv(3, 3, { padding: 'same' }), x)]) },
  { name: 'LeakyReLU, swish, Rescaling', input: [5, 5, 3], build: (x) => apply(L.rescaling({ scale: 1 / 127.5, offset: -1 }), apply(L.activation({ activation: 'swish' }), apply(L.leakyReLU({ alpha: 0.1 }), apply(conv(3, 3), x)))) },
  { name: 'Reshape -> Dense, with Dropout (an identity at inference)', input: [4, 4, 3], build: (x) => apply(L.dense({ units: 2, activation: 'tanh' }), apply(L.dropout({ rate: 0.5 }), apply(L.reshape({ targetShape: [48] }), x))) },
  { name: 'two outputs: an inner conv map (NHWC) and the head', input: [6, 6, 3], build: (x) => { const a = apply(conv(4, 3, { activation: 'relu' }), x); return [a, apply(L.dense({ units: 2 }), apply(L.flatten(), a))]; } },
];

for (const [k, c] of cases.entries()) {
  test(`layers model: ${c.name}`, async () => {
    const input = tf.input({ shape: c.input });
    const out = c.build(input);
    const model = tf.model({ inputs: input, outputs: out });
    seedWeights(model, 100 + k);
    const artifacts = await artifactsOf(model);
    const converted = convertTfjsModel(artifacts);
    const ops = opTypes(converted.onnx);
    for (const op of c.absent ?? []) assert.ok(!ops.includes(op), `${op} should have been folded away: ${ops.join(' ')}`);
    for (const op of c.present ?? []) assert.ok(ops.includes(op), `${op} expected in ${ops.join(' ')}`);

    const rng = new Rng(k);
    const dims = [2, ...c.input];
    const x = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
    const got = await runOnnx(converted.onnx, { [converted.inputs[0].name]: { data: x, dims } });
    const xt = tf.tensor(x, dims);
    const refs = [model.predict(xt)].flat() as tf.Tensor[];
    converted.outputs.forEach((o, i) => {
      assert.deepEqual(o.shape.slice(1), refs[i].shape.slice(1), `${o.name} shape`);
      const ref = refs[i].dataSync();
      const d = maxAbsDiff(got[o.name], ref);
      assert.ok(d <= 1e-5 + 1e-4 * maxAbs(ref), `${o.name}: max |ONNX - tfjs| = ${d} (largest |value| ${maxAbs(ref)})`);
    });
    tf.dispose([xt, ...refs]);
    model.dispose();
  });
}

test('layers model: a Sequential model without an InputLayer, cut at an inner layer', async () => {
  const model = tf.sequential({ layers: [L.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, name: 'c1' }), L.flatten({ name: 'f' }), L.dense({ units: 2, name: 'd' })] });
  seedWeights(model, 5);
  const converted = convertTfjsModel(await artifactsOf(model), { outputs: ['f'] });
  assert.deepEqual(converted.outputs, [{ name: 'f', shape: ['N', 48] }]);
  const x = Float32Array.from({ length: 72 }, (_, i) => Math.sin(i));
  const got = await runOnnx(converted.onnx, { [converted.inputs[0].name]: { data: x, dims: [1, 6, 6, 2] } });
  const cut = tf.model({ inputs: model.inputs, outputs: model.getLayer('f').output as tf.SymbolicTensor });
  const ref = (cut.predict(tf.tensor(x, [1, 6, 6, 2])) as tf.Tensor).dataSync();
  assert.ok(maxAbsDiff(got.f, ref) <= 1e-5 + 1e-4 * maxAbs(ref));
  // Cutting drops the head's weights from the ONNX model.
  assert.ok(!onnxProto.onnx.ModelProto.decode(converted.onnx).graph!.initializer!.some((t) => t.name!.startsWith('d/')));
});

test('layers model: an unsupported layer is a typed error naming it', async () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const model = tf.model({ inputs: input, outputs: L.upSampling2d({ size: [2, 2], name: 'up' }).apply(input) as tf.SymbolicTensor });
  const artifacts = await artifactsOf(model);
  assert.throws(() => convertTfjsModel(artifacts), (e: unknown) => e instanceof TfjsConversionError && e.code === 'UNSUPPORTED_OP' && e.op === 'UpSampling2D' && e.node === 'up' && /UpSampling2D/.test(e.message));
  assert.throws(() => convertTfjsModel(artifacts, { outputs: ['nope'] }), (e: unknown) => e instanceof TfjsConversionError && e.code === 'UNKNOWN_OUTPUT' && /nope/.test(e.message));
  const elu = tf.model({ inputs: input, outputs: L.conv2d({ filters: 2, kernelSize: 1, activation: 'elu', name: 'ce' }).apply(input) as tf.SymbolicTensor });
  const eluArtifacts = await artifactsOf(elu);
  assert.throws(() => convertTfjsModel(eluArtifacts), (e: unknown) => e instanceof TfjsConversionError && e.code === 'UNSUPPORTED_OP' && /elu/.test(e.op ?? ''));
});

test('layers model: a missing or misshapen weight is BAD_WEIGHTS', async () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const model = tf.model({ inputs: input, outputs: L.conv2d({ filters: 2, kernelSize: 3, name: 'c' }).apply(input) as tf.SymbolicTensor });
  const a = await artifactsOf(model);
  const missing = { ...a, weightSpecs: a.weightSpecs.map((s) => (s.name === 'c/kernel' ? { ...s, name: 'other/kernel' } : s)) };
  assert.throws(() => convertTfjsModel(missing), (e: unknown) => e instanceof TfjsConversionError && e.code === 'BAD_WEIGHTS' && /c\/kernel/.test(e.message));
  const truncated = { ...a, weightData: a.weightData.subarray(0, 10) };
  assert.throws(() => convertTfjsModel(truncated), (e: unknown) => e instanceof TfjsConversionError && e.code === 'BAD_WEIGHTS');
});

test('layers model: read from a folder (model.json + shards) as tfjs writes it', async () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const model = tf.model({ inputs: input, outputs: L.conv2d({ filters: 3, kernelSize: 3, name: 'c' }).apply(input) as tf.SymbolicTensor });
  const a = await artifactsOf(model);
  const dir = mkdtempSync(join(tmpdir(), 'memer-tfjs-'));
  try {
    // Two shards, split inside a weight, as the converter's shard size does.
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['s1.bin', 's2.bin'], weights: a.weightSpecs }] }));
    writeFileSync(join(dir, 's1.bin'), a.weightData.subarray(0, 50));
    writeFileSync(join(dir, 's2.bin'), a.weightData.subarray(50));
    const back = await readTfjsModelDir(dir);
    assert.equal(back.format, 'layers-model');
    assert.deepEqual(Array.from(back.weightData), Array.from(a.weightData));
    assert.deepEqual(convertTfjsModel(back).outputs, [{ name: 'c', shape: ['N', 2, 2, 3] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
