/**
 * A small typed graph IR from which ONNX models (onnx.ts), gradients (autodiff.ts) and the Float32Array reference
 * (reference.ts) are all derived. A model is written once against `Graph`; every other form is computed from it.
 *
 * Glossary
 *   value   a tensor in the graph: a graph input (data fed per run), a param (trainable weight), a const, or an op result
 *   node    one op: its input values, attributes and single output value
 *   N       the conventional symbolic batch dimension
 *   helper  an op used by gradient graphs only (gemm with transposes, sign, expandAs, slice, unsqueeze, countRatio);
 *           helpers have no gradient rule and no reference kernel
 */
import {
  broadcastShapes,
  normaliseAxes,
  reducedShape,
  shapeToString,
  type Dim,
  type Shape,
} from './shape.js';

export const DIFFERENTIABLE_OPS = [
  'add', 'sub', 'mul', 'div', 'neg', 'matmul', 'linear', 'relu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'pow',
  'softplus', 'abs', 'concat', 'reduceSum', 'reduceMean', 'identity',
] as const;
export const HELPER_OPS = ['gemm', 'sign', 'expandAs', 'slice', 'unsqueeze', 'countRatio'] as const;
export type DifferentiableOp = (typeof DIFFERENTIABLE_OPS)[number];
export type HelperOp = (typeof HELPER_OPS)[number];
export type OpName = DifferentiableOp | HelperOp;

export interface Attrs {
  /** concat / slice axis */
  axis?: number;
  /** reduce / unsqueeze axes */
  axes?: number[];
  keepdims?: boolean;
  /** pow: the constant exponent */
  exponent?: number;
  /** gemm: transpose flags */
  transA?: boolean;
  transB?: boolean;
  /** slice: [start, end) along axis */
  start?: number;
  end?: number;
}

export type ValueKind = 'input' | 'param' | 'const' | 'op';

export interface ValueInfo {
  id: number;
  name: string;
  shape: Dim[];
  kind: ValueKind;
}

export interface Node {
  op: OpName;
  inputs: number[];
  attrs: Attrs;
  output: number;
}

export interface ParamInfo {
  id: number;
  name: string;
  shape: number[];
  init: Float32Array;
}

/** Handle on a value of a graph; op methods live on Graph so that a model reads as `g.relu(g.linear(x, w, b))`. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
  ) {}
  get shape(): Dim[] {
    return this.graph.values[this.id].shape;
  }
  get name(): string {
    return this.graph.values[this.id].name;
  }
}

export type Operand = Tensor | number;

export class Graph {
  readonly values: ValueInfo[] = [];
  readonly nodes: Node[] = [];
  /** Graph inputs (data) in declaration order. */
  readonly inputs: number[] = [];
  readonly params: ParamInfo[] = [];
  readonly consts = new Map<number, Float32Array>();
  /** Named outputs. */
  readonly outputs = new Map<string, number>();
  /** Value id -> producing node index. */
  readonly producer = new Map<number, number>();
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<number, number>();

  /** A deep-enough copy: later nodes added to the clone leave this graph unchanged (param data is shared). */
  clone(): Graph {
    const g = new Graph();
    for (const v of this.values) g.values.push({ ...v, shape: [...v.shape] });
    for (const n of this.nodes) g.nodes.push({ ...n, inputs: [...n.inputs], attrs: { ...n.attrs } });
    g.inputs.push(...this.inputs);
    g.params.push(...this.params.map((p) => ({ ...p })));
    for (const [k, v] of this.consts) g.consts.set(k, v);
    for (const [k, v] of this.outputs) g.outputs.set(k, v);
    for (const [k, v] of this.producer) g.producer.set(k, v);
    for (const n of this.names) g.names.add(n);
    for (const [k, v] of this.scalarCache) g.scalarCache.set(k, v);
    return g;
  }

  tensor(id: number): Tensor {
    return new Tensor(this, id);
  }

  /** The value called `name` (inputs, params, named intermediates). */
  valueByName(name: string): Tensor {
    const v = this.values.find((x) => x.name === name);
    if (!v) throw new Error(`graph has no value "${name}"`);
    return this.tensor(v.id);
  }

  private newValue(name: string | undefined, shape: Dim[], kind: ValueKind): number {
    const id = this.values.length;
    const finalName = name ?? `t${id}`;
    if (this.names.has(finalName)) throw new Error(`duplicate value name "${finalName}"`);
    this.names.add(finalName);
    this.values.push({ id, name: finalName, shape, kind });
    return id;
  }

  input(name: string, shape: Shape): Tensor {
    const id = this.newValue(name, [...shape], 'input');
    this.inputs.push(id);
    return this.tensor(id);
  }

  param(name: string, shape: readonly number[], init: Float32Array): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (init.length !== size) throw new Error(`param ${name}: init has ${init.length} values, shape ${shapeToString(shape)} needs ${size}`);
    const id = this.newValue(name, [...shape], 'param');
    this.params.push({ id, name, shape: [...shape], init });
    return this.tensor(id);
  }

  constant(data: Float32Array, shape: readonly number[], name?: string): Tensor {
    const id = this.newValue(name, [...shape], 'const');
    this.consts.set(id, data);
    return this.tensor(id);
  }

  /** A float scalar constant (shape []), shared between uses of the same value. */
  scalar(value: number): Tensor {
    const hit = this.scalarCache.get(value);
    if (hit !== undefined) return this.tensor(hit);
    const t = this.constant(Float32Array.of(value), []);
    this.scalarCache.set(value, t.id);
    return t;
  }

  output(name: string, t: Tensor): void {
    if (this.outputs.has(name)) throw new Error(`duplicate output "${name}"`);
    this.outputs.set(name, t.id);
  }

  private operand(x: Operand): Tensor {
    return typeof x === 'number' ? this.scalar(x) : x;
  }

  /** Append a node; `shape` is the inferred output shape. */
  node(op: OpName, inputs: Tensor[], attrs: Attrs, shape: Dim[], name?: string): Tensor {
    for (const t of inputs) if (t.graph !== this) throw new Error(`${op}: operand from another graph`);
    const out = this.newValue(name, shape, 'op');
    this.producer.set(out, this.nodes.length);
    this.nodes.push({ op, inputs: inputs.map((t) => t.id), attrs, output: out });
    return this.tensor(out);
  }

  private binary(op: OpName, a: Operand, b: Operand, name?: string): Tensor {
    const ta = this.operand(a);
    const tb = this.operand(b);
    return this.node(op, [ta, tb], {}, broadcastShapes(ta.shape, tb.shape), name);
  }
  add(a: Operand, b: Operand, name?: string): Tensor { return this.binary('add', a, b, name); }
  sub(a: Operand, b: Operand, name?: string): Tensor { return this.binary('sub', a, b, name); }
  mul(a: Operand, b: Operand, name?: string): Tensor { return this.binary('mul', a, b, name); }
  div(a: Operand, b: Operand, name?: string): Tensor { return this.binary('div', a, b, name); }

  private unary(op: OpName, x: Tensor, name?: string, attrs: Attrs = {}): Tensor {
    return this.node(op, [x], attrs, [...x.shape], name);
  }
  neg(x: Tensor, name?: string): Tensor { return this.unary('neg', x, name); }
  relu(x: Tensor, name?: string): Tensor { return this.unary('relu', x, name); }
  sigmoid(x: Tensor, name?: string): Tensor { return this.unary('sigmoid', x, name); }
  tanh(x: Tensor, name?: string): Tensor { return this.unary('tanh', x, name); }
  exp(x: Tensor, name?: string): Tensor { return this.unary('exp', x, name); }
  log(x: Tensor, name?: string): Tensor { return this.unary('log', x, name); }
  sqrt(x: Tensor, name?: string): Tensor { return this.unary('sqrt', x, name); }
  softplus(x: Tensor, name?: string): Tensor { return this.unary('softplus', x, name); }
  abs(x: Tensor, name?: string): Tensor { return this.unary('abs', x, name); }
  identity(x: Tensor, name?: string): Tensor { return this.unary('identity', x, name); }
  sign(x: Tensor, name?: string): Tensor { return this.unary('sign', x, name); }
  /** x ** exponent for a constant exponent. */
  pow(x: Tensor, exponent: number, name?: string): Tensor { return this.unary('pow', x, name, { exponent }); }

  /** a[M,K] @ b[K,P] (2-D only). */
  matmul(a: Tensor, b: Tensor, name?: string): Tensor {
    if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[0]) {
      throw new Error(`matmul: ${shapeToString(a.shape)} @ ${shapeToString(b.shape)}`);
    }
    return this.node('matmul', [a, b], {}, [a.shape[0], b.shape[1]], name);
  }

  /** x[N,K] @ w[K,M] + b[M], one ONNX Gemm. */
  linear(x: Tensor, w: Tensor, b: Tensor, name?: string): Tensor {
    if (x.shape.length !== 2 || w.shape.length !== 2 || x.shape[1] !== w.shape[0] || b.shape.length !== 1 || b.shape[0] !== w.shape[1]) {
      throw new Error(`linear: ${shapeToString(x.shape)} @ ${shapeToString(w.shape)} + ${shapeToString(b.shape)}`);
    }
    return this.node('linear', [x, w, b], {}, [x.shape[0], w.shape[1]], name);
  }

  /** op(a) @ op(b) with optional transposes (a helper for gradients). */
  gemm(a: Tensor, b: Tensor, transA: boolean, transB: boolean, name?: string): Tensor {
    const [m, ka] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    if (a.shape.length !== 2 || b.shape.length !== 2 || ka !== kb) throw new Error(`gemm: ${shapeToString(a.shape)} x ${shapeToString(b.shape)}`);
    return this.node('gemm', [a, b], { transA, transB }, [m, n], name);
  }

  concat(xs: Tensor[], axis: number, name?: string): Tensor {
    if (xs.length === 0) throw new Error('concat of nothing');
    const rank = xs[0].shape.length;
    const [ax] = normaliseAxes([axis], rank);
    const shape = [...xs[0].shape];
    let total = 0;
    for (const x of xs) {
      if (x.shape.length !== rank || x.shape.some((d, i) => i !== ax && d !== shape[i])) {
        throw new Error(`concat: ${xs.map((t) => shapeToString(t.shape)).join(', ')} along ${axis}`);
      }
      const d = x.shape[ax];
      if (typeof d !== 'number') throw new Error('concat: the concatenated axis must be static');
      total += d;
    }
    shape[ax] = total;
    return this.node('concat', xs, { axis: ax }, shape, name);
  }

  reduceSum(x: Tensor, axes: number[], keepdims = false, name?: string): Tensor {
    const ax = normaliseAxes(axes, x.shape.length);
    return this.node('reduceSum', [x], { axes: ax, keepdims }, reducedShape(x.shape, ax, keepdims), name);
  }
  reduceMean(x: Tensor, axes: number[], keepdims = false, name?: string): Tensor {
    const ax = normaliseAxes(axes, x.shape.length);
    return this.node('reduceMean', [x], { axes: ax, keepdims }, reducedShape(x.shape, ax, keepdims), name);
  }

  /** Helper: broadcast x to the (runtime) shape of `like`. */
  expandAs(x: Tensor, like: Tensor, name?: string): Tensor {
    return this.node('expandAs', [x, like], {}, broadcastShapes(x.shape, like.shape), name);
  }
  /** Helper: x[start:end] along a static axis. */
  slice(x: Tensor, axis: number, start: number, end: number, name?: string): Tensor {
    const shape = [...x.shape];
    shape[axis] = end - start;
    return this.node('slice', [x], { axis, start, end }, shape, name);
  }
  /** Helper: insert size-1 axes (positions in the output). */
  unsqueeze(x: Tensor, axes: number[], name?: string): Tensor {
    const rank = x.shape.length + axes.length;
    const ax = new Set(normaliseAxes(axes, rank));
    const shape: Dim[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(ax.has(i) ? 1 : x.shape[k++]);
    return this.node('unsqueeze', [x], { axes: [...ax] }, shape, name);
  }
  /** Helper: g * size(small) / size(big), the ReduceMean gradient scale, computed at run time. */
  countRatio(g: Tensor, big: Tensor, small: Tensor, name?: string): Tensor {
    return this.node('countRatio', [g, big, small], {}, [...g.shape], name);
  }

  /** Node indices needed to compute `outputs`, in graph order. */
  needed(outputs: Iterable<number>): number[] {
    const need = new Set<number>();
    const stack = [...outputs];
    while (stack.length) {
      const v = stack.pop()!;
      const n = this.producer.get(v);
      if (n === undefined || need.has(n)) continue;
      need.add(n);
      stack.push(...this.nodes[n].inputs);
    }
    return [...need].sort((a, b) => a - b);
  }

  /** Values read by a set of nodes (plus the outputs themselves, which may be inputs or params). */
  usedValues(nodeIdx: readonly number[], outputs: Iterable<number>): Set<number> {
    const used = new Set<number>(outputs);
    for (const i of nodeIdx) for (const v of this.nodes[i].inputs) used.add(v);
    return used;
  }
}
