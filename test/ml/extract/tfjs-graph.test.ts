/**
 * The graph-model converter on small hand-built TensorFlow graphs (the ops tfjs-converter emits for image CNNs),
 * against tfjs's own graph executor on the same artifacts. Tolerance: 1e-5 + 1e-4 of the output's largest magnitude.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TfjsArtifacts } from '../../../src/ml/extract/tfjs/artifacts.js';
import { convertTfjsModel } from '../../../src/ml/extract/tfjs/convert.js';
import { TfjsConversionError } from '../../../src/ml/extract/tfjs/errors.js';
import type { WeightSpec } from '../../../src/ml/extract/tfjs/weights.js';
import { Rng } from '../../../src/ml/graph/rng.js';
import { handlerOf, maxAbs, maxAbsDiff, runOnnx, tf } from './tfjs-reference.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const A = {
  ints: (xs: number[]) => ({ list: { i: xs.map(String) } }),
  str: (s: string) => ({ s: b64(s) }),
  strs: (xs: string[]) => ({ list: { s: xs.map(b64) } }),
  f: (f: number) => ({ f }),
  b: (b: boolean) => ({ b }),
};
const dims = (shape: number[]) => ({ dim: shape.map((d) => ({ size: String(d) })) });
const conv = (strides: number, padding: string) => ({ strides: A.ints([1, strides, strides, 1]), padding: A.str(padding), data_format: A.str('NHWC'), dilations: A.ints([1, 1, 1, 1]) });

/** A GraphDef in tfjs's JSON form, with its Const values as weights. */
class TfGraph {
  readonly nodes: Record<string, unknown>[] = [];
  private readonly specs: WeightSpec[] = [];
  private readonly chunks: Uint8Array[] = [];
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  placeholder(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { shape: { shape: dims(shape) }, dtype: { type: 'DT_FLOAT' } } });
    return name;
  }
  const(name: string, shape: number[], values?: number[], dtype: 'float32' | 'int32' = 'float32', lo = -0.6, hi = 0.6): string {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'int32' ? Int32Array.from(values!) : Float32Array.from(values ?? Array.from({ length: n }, () => this.rng.uniform(lo, hi)));
    const type = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({ name, op: 'Const', attr: { value: { tensor: { dtype: type, tensorShape: dims(shape) } }, dtype: { type } } });
    this.specs.push({ name, shape, dtype });
    this.chunks.push(new Uint8Array(data.buffer));
    return name;
  }
  op(name: string, op: string, input: string[], attr: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } });
    return name;
  }
  artifacts(): TfjsArtifacts {
    const weightData = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      weightData.set(c, at);
      at += c.length;
    }
    return { format: 'graph-model', modelTopology: { node: this.nodes, versions: { producer: 175 } }, weightSpecs: this.specs, weightData };
  }
}

async function check(g: TfGraph, input: string, shape: number[], outputs: string[]): Promise<void> {
  const artifacts = g.artifacts();
  const converted = convertTfjsModel(artifacts, { outputs });
  const rng = new Rng(shape.length);
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
  const got = await runOnnx(converted.onnx, { [input]: { data: x, dims: shape } });
  const model = await tf.loadGraphModel(handlerOf(artifacts));
  const xt = tf.tensor(x, shape);
  const refs = [model.execute(xt, outputs)].flat() as tf.Tensor[];
  outputs.forEach((o, i) => {
    const ref = refs[i].dataSync();
    assert.deepEqual(converted.outputs[i].shape.slice(1), refs[i].shape.slice(1), `${o} shape`);
    const d = maxAbsDiff(got[o], ref);
    assert.ok(d <= 1e-5 + 1e-4 * maxAbs(ref), `${o}: max |ONNX - tfjs| = ${d} (largest |value| ${maxAbs(ref)})`);
  });
  tf.dispose([xt, ...refs]);
  model.dispose();
}

test('graph model: input scaling, _FusedConv2D (BiasAdd, Relu6), FusedDepthwiseConv2dNative (BiasAdd, Relu), Conv2D + BiasAdd, FusedBatchNormV3, AddV2', async () => {
  const g = new TfGraph(1);
  const x = g.placeholder('input', [-1, 9, 9, 3]);
  const scaled = g.op('sub', 'Sub', [g.op('mul', 'Mul', [g.const('two', [], [2]), x]), g.const('one', [], [1])]);
  const fused = ['BiasAdd', 'Relu6'];
  const c1 = g.op('c1', '_FusedConv2D', [scaled, g.const('w1', [3, 3, 3, 4]), g.const('b1', [4])], { ...conv(2, 'SAME'), fused_ops: A.strs(fused), num_args: { i: '1' }, epsilon: A.f(0), explicit_paddings: { list: {} } });
  const d1 = g.op('d1', 'FusedDepthwiseConv2dNative', [c1, g.const('dw', [3, 3, 4, 2]), g.const('db', [8])], { ...conv(1, 'SAME'), fused_ops: A.strs(['BiasAdd', 'Relu']), num_args: { i: '1' } });
  const c2 = g.op('c2b', 'BiasAdd', [g.op('c2', 'Conv2D', [d1, g.const('w2', [1, 1, 8, 8])], conv(1, 'VALID')), g.const('b2', [8])], { data_format: A.str('NHWC') });
  const bn = g.op('bn', 'FusedBatchNormV3', [c2, g.const('gamma', [8], undefined, 'float32', 0.5, 1.5), g.const('beta', [8]), g.const('mean', [8]), g.const('var', [8], undefined, 'float32', 0.5, 2)], { epsilon: A.f(1e-3), is_training: A.b(false), data_format: A.str('NHWC') });
  const out = g.op('out', 'Relu', [g.op('res', 'AddV2', [bn, d1])]);
  await check(g, x, [2, 9, 9, 3], [out, c1]);
});

test('graph model: Pad -> MaxPool valid -> AvgPool same -> Mean over H, W -> _FusedMatMul (BiasAdd, Relu) -> MatMul transpose_b -> Softmax -> Identity', async () => {
  const g = new TfGraph(2);
  const x = g.placeholder('x', [-1, 6, 6, 4]);
  const pad = g.op('pad', 'Pad', [x, g.const('paddings', [4, 2], [0, 0, 1, 1, 1, 0, 0, 0], 'int32')]);
  const pool = (name: string, op: string, input: string, k: number, s: number, padding: string) =>
    g.op(name, op, [input], { ksize: A.ints([1, k, k, 1]), strides: A.ints([1, s, s, 1]), padding: A.str(padding), data_format: A.str('NHWC') });
  const mp = pool('mp', 'MaxPool', pad, 2, 2, 'VALID');
  const ap = pool('ap', 'AvgPool', mp, 3, 1, 'SAME');
  const mean = g.op('mean', 'Mean', [ap, g.const('axes', [2], [1, 2], 'int32')], { keep_dims: A.b(false), Tidx: { type: 'DT_INT32' } });
  const fm = g.op('fm', '_FusedMatMul', [mean, g.const('w', [4, 6]), g.const('b', [6])], { fused_ops: A.strs(['BiasAdd', 'Relu']), num_args: { i: '1' }, epsilon: A.f(0), transpose_a: A.b(false), transpose_b: A.b(false) });
  const mm = g.op('mm', 'MatMul', [fm, g.const('w2', [3, 6])], { transpose_a: A.b(false), transpose_b: A.b(true) });
  const out = g.op('Identity', 'Identity', [g.op('sm', 'Softmax', [mm])]);
  await check(g, x, [3, 6, 6, 4], [out, mp]);
});

test('graph model: Squeeze, Reshape, Mean keep_dims and over channels, ConcatV2, LeakyRelu, Sigmoid', async () => {
  const g = new TfGraph(3);
  const x = g.placeholder('x', [-1, 4, 4, 3]);
  const c = g.op('c', 'Conv2D', [x, g.const('w', [1, 1, 3, 5])], conv(1, 'VALID'));
  const ap = g.op('ap', 'AvgPool', [c], { ksize: A.ints([1, 4, 4, 1]), strides: A.ints([1, 1, 1, 1]), padding: A.str('VALID'), data_format: A.str('NHWC') });
  const sq = g.op('sq', 'Squeeze', [ap], { squeeze_dims: A.ints([1, 2]) });
  const mk = g.op('mk', 'Mean', [c, g.const('hw', [2], [1, 2], 'int32')], { keep_dims: A.b(true), Tidx: { type: 'DT_INT32' } });
  const rs = g.op('rs', 'Reshape', [mk, g.const('s5', [2], [-1, 5], 'int32')], { Tshape: { type: 'DT_INT32' } });
  const fl = g.op('fl', 'Reshape', [g.op('lr', 'LeakyRelu', [c], { alpha: A.f(0.2) }), g.const('s80', [2], [-1, 80], 'int32')], { Tshape: { type: 'DT_INT32' } });
  const cat = g.op('cat', 'ConcatV2', [sq, rs, fl, g.const('axis', [], [1], 'int32')], { N: { i: '3' }, Tidx: { type: 'DT_INT32' } });
  const mc = g.op('mc', 'Mean', [c, g.const('ch', [1], [3], 'int32')], { keep_dims: A.b(false), Tidx: { type: 'DT_INT32' } });
  await check(g, x, [2, 4, 4, 3], [g.op('sig', 'Sigmoid', [cat]), mc]);
});

test('graph model: an unsupported op is a typed error naming the op and the node', () => {
  const g = new TfGraph(4);
  const x = g.placeholder('x', [-1, 4, 4, 3]);
  const r = g.op('resize', 'ResizeBilinear', [x, g.const('size', [2], [8, 8], 'int32')], { align_corners: A.b(false) });
  assert.throws(() => convertTfjsModel(g.artifacts(), { outputs: [r] }), (e: unknown) =>
    e instanceof TfjsConversionError && e.code === 'UNSUPPORTED_OP' && e.op === 'ResizeBilinear' && e.node === 'resize' && /ResizeBilinear/.test(e.message));
  assert.throws(() => convertTfjsModel(g.artifacts(), { outputs: ['missing'] }), (e: unknown) => e instanceof TfjsConversionError && e.code === 'UNKNOWN_OUTPUT');
});
