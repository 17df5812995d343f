/** A tiny two-input, two-output model and its inputs, for the runtime tests. */
import { Graph } from '../../../src/ml/graph/ir.js';
import { toOnnx } from '../../../src/ml/graph/onnx.js';

/** y = x @ W + b (x [N, 3], y [N, 2]) and s = sum(x * t) over axis 1 with a second input t [N, 3]. */
export function tinyModel(): Uint8Array {
  const g = new Graph();
  const x = g.input('x', ['N', 3]);
  const t = g.input('t', ['N', 3]);
  const w = g.param('W', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const b = g.param('b', [2], Float32Array.from([0.5, -0.5]));
  g.output('y', g.linear(x, w, b, 'y'));
  g.output('s', g.reduceSum(g.mul(x, t), [1], true, 's'));
  return toOnnx(g, { outputs: ['y', 's'], params: 'initializers', metadata: { purpose: 'test' } });
}

export const rowsOf = (n: number, seed: number) => Float32Array.from({ length: n * 3 }, (_, i) => ((i * 7 + seed) % 11) - 5);
