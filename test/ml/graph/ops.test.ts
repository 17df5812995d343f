/**
 * Every differentiable op, three ways: ONNX forward vs the Float32Array reference (1e-5 relative), ONNX gradients vs
 * reference gradients (atol 1e-5 + rtol 1e-4), reference gradients vs central finite differences (h = 1e-2;
 * atol 2e-3 + rtol 1e-2, which float32 rounding and O(h^2) truncation stay well inside).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, type Tensor } from '../../../src/ml/graph/ir.js';
import { toOnnx } from '../../../src/ml/graph/onnx.js';
import { evaluate } from '../../../src/ml/graph/reference.js';
import { Rng } from '../../../src/ml/graph/rng.js';
import { closeness, finiteDifferences, onnxGradients, referenceLossAndGrads, runtime } from './helpers.js';

type Init = 'any' | 'positive' | 'awayFromZero' | 'wide';

function data(rng: Rng, n: number, kind: Init): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (kind === 'positive') out[i] = rng.uniform(0.5, 2);
    else if (kind === 'awayFromZero') out[i] = (rng.next() < 0.5 ? -1 : 1) * rng.uniform(0.2, 1.5);
    else if (kind === 'wide') out[i] = rng.uniform(-40, 40);
    else out[i] = rng.uniform(-1.5, 1.5);
  }
  return out;
}

interface Case {
  name: string;
  operands: { shape: number[]; init: Init }[];
  build: (g: Graph, x: Tensor[]) => Tensor;
}

const cases: Case[] = [
  { name: 'add (broadcast [4] over [3,4])', operands: [{ shape: [3, 4], init: 'any' }, { shape: [4], init: 'any' }], build: (g, [a, b]) => g.add(a, b) },
  { name: 'sub ([3,1] - [3,4])', operands: [{ shape: [3, 1], init: 'any' }, { shape: [3, 4], init: 'any' }], build: (g, [a, b]) => g.sub(a, b) },
  { name: 'mul ([3,4] * [1,4])', operands: [{ shape: [3, 4], init: 'any' }, { shape: [1, 4], init: 'any' }], build: (g, [a, b]) => g.mul(a, b) },
  { name: 'mul (x * x)', operands: [{ shape: [5], init: 'any' }], build: (g, [a]) => g.mul(a, a) },
  { name: 'div ([3,4] / [3,1])', operands: [{ shape: [3, 4], init: 'any' }, { shape: [3, 1], init: 'positive' }], build: (g, [a, b]) => g.div(a, b) },
  { name: 'neg', operands: [{ shape: [2, 3], init: 'any' }], build: (g, [a]) => g.neg(a) },
  { name: 'identity', operands: [{ shape: [2, 3], init: 'any' }], build: (g, [a]) => g.identity(a) },
  { name: 'relu', operands: [{ shape: [3, 4], init: 'awayFromZero' }], build: (g, [a]) => g.relu(a) },
  { name: 'sigmoid', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.sigmoid(a) },
  { name: 'tanh', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.tanh(a) },
  { name: 'exp', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.exp(a) },
  { name: 'log', operands: [{ shape: [3, 4], init: 'positive' }], build: (g, [a]) => g.log(a) },
  { name: 'sqrt', operands: [{ shape: [3, 4], init: 'positive' }], build: (g, [a]) => g.sqrt(a) },
  { name: 'pow 2', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.pow(a, 2) },
  { name: 'pow 3', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.pow(a, 3) },
  { name: 'pow 0.5', operands: [{ shape: [3, 4], init: 'positive' }], build: (g, [a]) => g.pow(a, 0.5) },
  { name: 'softplus', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.softplus(a) },
  { name: 'abs', operands: [{ shape: [3, 4], init: 'awayFromZero' }], build: (g, [a]) => g.abs(a) },
  { name: 'matmul', operands: [{ shape: [3, 4], init: 'any' }, { shape: [4, 2], init: 'any' }], build: (g, [a, b]) => g.matmul(a, b) },
  { name: 'linear', operands: [{ shape: [3, 4], init: 'any' }, { shape: [4, 2], init: 'any' }, { shape: [2], init: 'any' }], build: (g, [x, w, b]) => g.linear(x, w, b) },
  { name: 'concat axis 1', operands: [{ shape: [3, 2], init: 'any' }, { shape: [3, 3], init: 'any' }], build: (g, [a, b]) => g.concat([a, b], 1) },
  { name: 'concat axis 0', operands: [{ shape: [1, 3], init: 'any' }, { shape: [2, 3], init: 'any' }], build: (g, [a, b]) => g.concat([a, b], 0) },
  { name: 'reduceSum axis 1', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.reduceSum(a, [1]) },
  { name: 'reduceSum axis 0 keepdims', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.reduceSum(a, [0], true) },
  { name: 'reduceSum all', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.reduceSum(a, [0, 1]) },
  { name: 'reduceMean axis 0', operands: [{ shape: [3, 4], init: 'any' }], build: (g, [a]) => g.reduceMean(a, [0]) },
  { name: 'reduceMean axis 1 keepdims', operands: [{ shape: [2, 3, 4], init: 'any' }], build: (g, [a]) => g.reduceMean(a, [1], true) },
];

/** L = sum(op(x...) * R) for a fixed random R, so every output element gets a distinct weight. */
function lossGraph(c: Case, seed: number): Graph {
  const rng = new Rng(seed);
  const g = new Graph();
  const xs = c.operands.map((o, i) => g.param(`x${i}`, o.shape, data(rng, o.shape.reduce((a, b) => a * b, 1), o.init)));
  const y = c.build(g, xs);
  const shape = y.shape as number[];
  const r = g.constant(data(rng, shape.reduce((a, b) => a * b, 1), 'any'), shape);
  const weighted = g.mul(y, r);
  const loss = shape.length ? g.reduceSum(weighted, shape.map((_, i) => i)) : weighted;
  g.output('y', g.identity(y, 'y_out'));
  g.output('loss', g.identity(loss, 'loss_out'));
  return g;
}

for (const [i, c] of cases.entries()) {
  test(`op ${c.name}: ONNX forward and gradients match the reference and finite differences`, async () => {
    const g = lossGraph(c, 100 + i);
    const refY = evaluate(g, {}, ['y']).get(g.outputs.get('y')!)!;
    const session = await runtime.createSession(toOnnx(g, { outputs: ['y'], params: 'initializers' }), c.name);
    const onnxY = (await session.run({})).y;
    await session.dispose();
    assert.deepEqual([...onnxY.dims], refY.shape);
    const fw = closeness(onnxY.data, refY.data, 1e-6, 1e-5);
    assert.ok(fw.worst <= 1, `forward differs at ${fw.at}: ${onnxY.data[fw.at]} vs ${refY.data[fw.at]}`);

    const ref = referenceLossAndGrads(g, 'loss', {});
    const ox = await onnxGradients(g, 'loss', {});
    assert.ok(Math.abs(ox.loss - ref.loss) <= 1e-5 * (1 + Math.abs(ref.loss)), `loss ${ox.loss} vs ${ref.loss}`);
    for (const p of g.params) {
      const a = ox.grads.get(p.name)!;
      const b = ref.grads.get(p.name)!;
      const gc = closeness(a, b, 1e-5, 1e-4);
      assert.ok(gc.worst <= 1, `${p.name}: ONNX grad ${a[gc.at]} vs reference ${b[gc.at]} at ${gc.at}`);
      const fd = finiteDifferences(g, 'loss', {}, p.name, 1e-2);
      const fc = closeness(b, fd, 2e-3, 1e-2);
      assert.ok(fc.worst <= 1, `${p.name}: reference grad ${b[fc.at]} vs finite difference ${fd[fc.at]} at ${fc.at}`);
    }
  });
}

test('softplus stays finite and exact for large |x| in ONNX and the reference', async () => {
  const g = new Graph();
  const x = g.input('x', ['N']);
  g.output('y', g.softplus(x, 'y'));
  const xs = Float32Array.from([-100, -30, 0, 30, 100]);
  const session = await runtime.createSession(toOnnx(g, { outputs: ['y'], params: 'initializers' }), 'softplus');
  const y = (await session.run({ x: { data: xs, dims: [5] } })).y.data;
  await session.dispose();
  const ref = evaluate(g, { x: { data: xs, shape: [5] } }, ['y']).get(g.outputs.get('y')!)!.data;
  const expected = [0, 9.357623e-14, Math.LN2, 30, 100];
  expected.forEach((e, i) => {
    assert.ok(Math.abs(y[i] - e) <= 1e-6 * (1 + e), `onnx softplus(${xs[i]}) = ${y[i]}`);
    assert.ok(Math.abs(ref[i] - e) <= 1e-6 * (1 + e), `reference softplus(${xs[i]}) = ${ref[i]}`);
  });
});
