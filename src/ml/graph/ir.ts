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
 *   inference op  an op of converted pretrained networks (conv, pooling, clip, transpose, reshape, pad, softmax,
 *           leakyRelu; src/ml/extract/tfjs): NCHW like ONNX, emitted to ONNX only (no gradient, no reference kernel)
 */
import {
  broadcastShapes,
  normaliseAxes,
  reducedShape,
  shapeToString,
  staticSize,
  spatialOutputDim,
  type Dim,
  type Shape,
} from './shape.js';

export const DIFFERENTIABLE_OPS = [
  'add', 'sub', 'mul', 'div', 'neg', 'matmul', 'linear', 'relu', 'sigmoid', 'tanh', 'exp', 'log', 'sqrt', 'pow',
  'softplus', 'abs', 'concat', 'reduceSum', 'reduceMean', 'identity',
] as const;
export const HELPER_OPS = ['gemm', 'sign', 'expandAs', 'slice', 'unsqueeze', 'countRatio'] as const;
export const INFERENCE_OPS = [
  'conv', 'clip', 'leakyRelu', 'transpose', 'reshape', 'pad', 'averagePool', 'maxPool', 'globalAveragePool', 'softmax',
] as const;
export type DifferentiableOp = (typeof DIFFERENTIABLE_OPS)[number];
export type HelperOp = (typeof HELPER_OPS)[number];
export type InferenceOp = (typeof INFERENCE_OPS)[number];
export type OpName = DifferentiableOp | HelperOp | InferenceOp;

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
  /** conv / pools: per spatial axis (ONNX order: pads are all begins, then all ends) */
  strides?: number[];
  pads?: number[];
  dilations?: number[];
  kernelShape?: number[];
  /** conv: channel groups (= input channels for a depthwise conv) */
  group?: number;
  /** clip bounds */
  min?: number;
  max?: number;
  /** leakyRelu slope */
  alpha?: number;
  /** transpose permutation */
  perm?: number[];
  /** reshape target (ONNX semantics: 0 copies the input dim, -1 is inferred) */
  shape?: number[];
}

/** Spatial geometry of a conv or pool over NCHW input; every list has one entry per spatial axis (pads: two). */
export interface Window {
  strides?: readonly number[];
  /** [begin_0, begin_1, ..., end_0, end_1, ...] (default zeros) */
  pads?: readonly number[];
  dilations?: readonly number[];
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

  /** Output shape of a conv/pool over x [N, C, ...spatial] with `kernel` per spatial axis; spatial dims must be static. */
  private windowShape(op: string, x: Tensor, channels: Dim, kernel: readonly number[], w: Window): { shape: Dim[]; attrs: Attrs } {
    const spatial = x.shape.slice(2);
    const k = kernel.length;
    if (x.shape.length !== k + 2) throw new Error(`${op}: input ${shapeToString(x.shape)} is not [N, C, ${k} spatial dims]`);
    const strides = [...(w.strides ?? kernel.map(() => 1))];
    const dilations = [...(w.dilations ?? kernel.map(() => 1))];
    const pads = [...(w.pads ?? new Array<number>(2 * k).fill(0))];
    if (strides.length !== k || dilations.length !== k || pads.length !== 2 * k) throw new Error(`${op}: window lists do not match ${k} spatial axes`);
    const out: Dim[] = [x.shape[0], channels];
    spatial.forEach((d, i) => {
      if (typeof d !== 'number') throw new Error(`${op}: spatial dim ${i} of ${shapeToString(x.shape)} must be static`);
      const o = spatialOutputDim(d, kernel[i], strides[i], pads[i], pads[i + k], dilations[i]);
      if (o < 1) throw new Error(`${op}: window ${kernel[i]} does not fit spatial dim ${d} (pads ${pads[i]}+${pads[i + k]})`);
      out.push(o);
    });
    return { shape: out, attrs: { kernelShape: [...kernel], strides, pads, dilations } };
  }

  /** ONNX Conv: x [N, C, ...] * w [M, C/group, ...kernel] (+ b [M]). */
  conv(x: Tensor, w: Tensor, b: Tensor | undefined, win: Window & { group?: number } = {}, name?: string): Tensor {
    const group = win.group ?? 1;
    const [m, cg, ...kernel] = w.shape;
    if (typeof m !== 'number' || typeof cg !== 'number' || kernel.some((d) => typeof d !== 'number')) throw new Error('conv: weight shape must be static');
    if (x.shape[1] !== cg * group || m % group !== 0) throw new Error(`conv: input ${shapeToString(x.shape)}, weight ${shapeToString(w.shape)}, group ${group}`);
    if (b && (b.shape.length !== 1 || b.shape[0] !== m)) throw new Error(`conv: bias ${shapeToString(b.shape)} for ${m} output channels`);
    const { shape, attrs } = this.windowShape('conv', x, m, kernel as number[], win);
    return this.node('conv', b ? [x, w, b] : [x, w], { ...attrs, group }, shape, name);
  }

  /** Average pool (padding excluded from the count, as TensorFlow's SAME padding does) or max pool. */
  pool(kind: 'averagePool' | 'maxPool', x: Tensor, kernel: readonly number[], win: Window = {}, name?: string): Tensor {
    if (win.dilations && win.dilations.some((d) => d !== 1)) throw new Error(`${kind}: dilation is not supported`);
    const { shape, attrs } = this.windowShape(kind, x, x.shape[1], kernel, { ...win, dilations: undefined });
    delete attrs.dilations;
    return this.node(kind, [x], attrs, shape, name);
  }

  /** Mean over every spatial axis, kept as size 1: [N, C, ...] -> [N, C, 1, ...]. */
  globalAveragePool(x: Tensor, name?: string): Tensor {
    if (x.shape.length < 3) throw new Error(`globalAveragePool: input ${shapeToString(x.shape)} has no spatial axes`);
    return this.node('globalAveragePool', [x], {}, [x.shape[0], x.shape[1], ...x.shape.slice(2).map(() => 1)], name);
  }

  clip(x: Tensor, min: number, max: number, name?: string): Tensor {
    if (!(min <= max)) throw new Error(`clip: min ${min} > max ${max}`);
    return this.node('clip', [x], { min, max }, [...x.shape], name);
  }

  leakyRelu(x: Tensor, alpha: number, name?: string): Tensor {
    return this.node('leakyRelu', [x], { alpha }, [...x.shape], name);
  }

  softmax(x: Tensor, axis = -1, name?: string): Tensor {
    const [ax] = normaliseAxes([axis], x.shape.length);
    return this.node('softmax', [x], { axis: ax }, [...x.shape], name);
  }

  transpose(x: Tensor, perm: readonly number[], name?: string): Tensor {
    const rank = x.shape.length;
    if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new Error(`transpose: perm [${perm.join(', ')}] for rank ${rank}`);
    return this.node('transpose', [x], { perm: [...perm] }, perm.map((p) => x.shape[p]), name);
  }

  /** ONNX Reshape: 0 copies the input dim at that position, one -1 takes what is left (static dims only). */
  reshape(x: Tensor, target: readonly number[], name?: string): Tensor {
    const out: Dim[] = target.map((d, i) => (d === 0 ? x.shape[i] : d));
    const free = target.filter((d) => d === -1).length;
    if (free > 1 || target.some((d, i) => d < -1 || (d === 0 && i >= x.shape.length))) throw new Error(`reshape: bad target [${target.join(', ')}]`);
    // Dims copied by 0 cancel out of the count, so a symbolic batch dim may pass through.
    const copied = new Set(target.flatMap((d, i) => (d === 0 ? [i] : [])));
    const rest = x.shape.filter((_, i) => !copied.has(i));
    const known = out.filter((d, i) => !copied.has(i) && d !== -1);
    const inSize = staticSize(rest);
    const outSize = staticSize(known);
    if (inSize === undefined || outSize === undefined) throw new Error(`reshape: ${shapeToString(x.shape)} to [${target.join(', ')}] needs static dims`);
    if (free) {
      if (outSize === 0 || inSize % outSize !== 0) throw new Error(`reshape: ${shapeToString(x.shape)} to [${target.join(', ')}]`);
      out[target.indexOf(-1)] = inSize / outSize;
    } else if (inSize !== outSize) {
      throw new Error(`reshape: ${shapeToString(x.shape)} to [${target.join(', ')}] changes the size`);
    }
    return this.node('reshape', [x], { shape: [...target] }, out, name);
  }

  /** Constant zero padding; `pads` is ONNX's [begin per axis..., end per axis...] over every axis. */
  pad(x: Tensor, pads: readonly number[], name?: string): Tensor {
    const rank = x.shape.length;
    if (pads.length !== 2 * rank || pads.some((p) => p < 0 || !Number.isInteger(p))) throw new Error(`pad: pads [${pads.join(', ')}] for rank ${rank}`);
    const shape = x.shape.map((d, i) => {
      if (pads[i] === 0 && pads[i + rank] === 0) return d;
      if (typeof d !== 'number') throw new Error(`pad: padded dim ${i} must be static`);
      return d + pads[i] + pads[i + rank];
    });
    return this.node('pad', [x], { pads: [...pads] }, shape, name);
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
