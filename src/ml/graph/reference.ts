/**
 * Plain Float32Array forward kernels for the differentiable IR ops: the test oracle for the ONNX graphs.
 * Written for clarity, not speed (sums accumulate in float64, results are stored as float32).
 *
 * Glossary
 *   RefTensor   { data (row-major), shape (concrete) }
 *   strides     element offsets per axis; a broadcast axis has stride 0
 */
import type { Graph, Node } from './ir.js';
import { broadcastShapes } from './shape.js';

export interface RefTensor {
  data: Float32Array;
  shape: number[];
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function ref(data: ArrayLike<number>, shape: number[]): RefTensor {
  const d = Float32Array.from(data);
  if (d.length !== size(shape)) throw new Error(`ref: ${d.length} values for shape [${shape}]`);
  return { data: d, shape };
}

/** Strides of `shape` when it is broadcast to `out` (right-aligned; size-1 axes get stride 0). */
export function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const lead = out.length - shape.length;
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i + lead] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Visit every index of `out`, passing the offsets of each operand under its strides. */
function walk(out: readonly number[], strides: number[][], visit: (i: number, offsets: number[]) => void): void {
  const rank = out.length;
  const n = size(out);
  const idx = new Array<number>(rank).fill(0);
  const off = strides.map(() => 0);
  for (let i = 0; i < n; i++) {
    visit(i, off);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < off.length; k++) off[k] += strides[k][d];
      if (idx[d] < out[d]) break;
      for (let k = 0; k < off.length; k++) off[k] -= strides[k][d] * out[d];
      idx[d] = 0;
    }
  }
}

export function binary(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefTensor {
  const shape = broadcastShapes(a.shape, b.shape) as number[];
  const data = new Float32Array(size(shape));
  walk(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)], (i, [oa, ob]) => {
    data[i] = f(a.data[oa], b.data[ob]);
  });
  return { data, shape };
}

export function unary(x: RefTensor, f: (v: number) => number): RefTensor {
  return { data: x.data.map(f), shape: [...x.shape] };
}

/** Sum `t` (shaped like a broadcast result) down to `shape`. */
export function sumTo(t: RefTensor, shape: readonly number[]): RefTensor {
  const acc = new Float64Array(size(shape));
  walk(t.shape, [broadcastStrides(shape, t.shape)], (i, [o]) => {
    acc[o] += t.data[i];
  });
  return { data: Float32Array.from(acc), shape: [...shape] };
}

/** Broadcast `t` up to `shape`. */
export function broadcastTo(t: RefTensor, shape: readonly number[]): RefTensor {
  const data = new Float32Array(size(shape));
  walk(shape, [broadcastStrides(t.shape, shape)], (i, [o]) => {
    data[i] = t.data[o];
  });
  return { data, shape: [...shape] };
}

/** op(a) @ op(b), transposes optional. */
export function matmulRef(a: RefTensor, b: RefTensor, transA = false, transB = false): RefTensor {
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== k2) throw new Error(`matmul: inner dims ${k} and ${k2}`);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a.data[p * a.shape[1] + i] : a.data[i * a.shape[1] + p];
        const bv = transB ? b.data[j * b.shape[1] + p] : b.data[p * b.shape[1] + j];
        s += av * bv;
      }
      out[i * n + j] = s;
    }
  }
  return { data: out, shape: [m, n] };
}

export function concatRef(xs: RefTensor[], axis: number): RefTensor {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const outer = size(shape.slice(0, axis));
  const inner = size(shape.slice(axis + 1));
  const data = new Float32Array(size(shape));
  let o = 0;
  for (let r = 0; r < outer; r++) {
    for (const x of xs) {
      const len = x.shape[axis] * inner;
      data.set(x.data.subarray(r * len, (r + 1) * len), o);
      o += len;
    }
  }
  return { data, shape };
}

/** Sum (or mean) over `axes`. */
export function reduceRef(x: RefTensor, axes: readonly number[], keepdims: boolean, mean: boolean): RefTensor {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = sumTo(x, kept);
  if (mean) {
    const count = size(x.shape) / size(kept);
    for (let i = 0; i < s.data.length; i++) s.data[i] /= count;
  }
  return { data: s.data, shape: keepdims ? kept : x.shape.filter((_, i) => !axes.includes(i)) };
}

export const sigmoidRef = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
export const softplusRef = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

export function forwardNode(n: Node, x: RefTensor[]): RefTensor {
  switch (n.op) {
    case 'add': return binary(x[0], x[1], (a, b) => a + b);
    case 'sub': return binary(x[0], x[1], (a, b) => a - b);
    case 'mul': return binary(x[0], x[1], (a, b) => a * b);
    case 'div': return binary(x[0], x[1], (a, b) => a / b);
    case 'neg': return unary(x[0], (v) => -v);
    case 'identity': return unary(x[0], (v) => v);
    case 'relu': return unary(x[0], (v) => (v > 0 ? v : 0));
    case 'sigmoid': return unary(x[0], sigmoidRef);
    case 'tanh': return unary(x[0], Math.tanh);
    case 'exp': return unary(x[0], Math.exp);
    case 'log': return unary(x[0], Math.log);
    case 'sqrt': return unary(x[0], Math.sqrt);
    case 'softplus': return unary(x[0], softplusRef);
    case 'abs': return unary(x[0], Math.abs);
    case 'sign': return unary(x[0], Math.sign);
    case 'pow': return unary(x[0], (v) => v ** n.attrs.exponent!);
    case 'matmul': return matmulRef(x[0], x[1]);
    case 'gemm': return matmulRef(x[0], x[1], n.attrs.transA, n.attrs.transB);
    case 'linear': return binary(matmulRef(x[0], x[1]), x[2], (a, b) => a + b);
    case 'concat': return concatRef(x, n.attrs.axis!);
    case 'reduceSum': return reduceRef(x[0], n.attrs.axes!, !!n.attrs.keepdims, false);
    case 'reduceMean': return reduceRef(x[0], n.attrs.axes!, !!n.attrs.keepdims, true);
    default:
      throw new Error(`reference has no kernel for helper op "${n.op}"`);
  }
}

/**
 * Evaluate the nodes that `outputs` need. `params` overrides param values by name (default: their init).
 * Returns every computed value by id.
 */
export function evaluate(
  g: Graph,
  feeds: Readonly<Record<string, RefTensor>>,
  outputs: readonly string[],
  params?: ReadonlyMap<string, Float32Array>,
): Map<number, RefTensor> {
  const values = new Map<number, RefTensor>();
  for (const id of g.inputs) {
    const v = g.values[id];
    const f = feeds[v.name];
    if (f) values.set(id, f);
  }
  for (const p of g.params) values.set(p.id, { data: params?.get(p.name) ?? p.init, shape: p.shape });
  for (const [id, data] of g.consts) values.set(id, { data, shape: g.values[id].shape as number[] });
  const outIds = outputs.map((o) => {
    const id = g.outputs.get(o);
    if (id === undefined) throw new Error(`graph has no output "${o}"`);
    return id;
  });
  for (const i of g.needed(outIds)) {
    const n = g.nodes[i];
    const args = n.inputs.map((id) => {
      const v = values.get(id);
      if (!v) throw new Error(`reference: no value for "${g.values[id].name}" (missing feed?)`);
      return v;
    });
    values.set(n.output, forwardNode(n, args));
  }
  return values;
}
