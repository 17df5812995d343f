/**
 * A TensorFlow graph model (TF.js "graph-model": the GraphDef as JSON, weights of its Const nodes in the manifest) as an
 * IR graph. The op set is what tfjs-converter emits for image CNNs after its grappler passes: convs with their bias,
 * batch norm and activation fused in (_FusedConv2D, FusedDepthwiseConv2dNative, _FusedMatMul), pools, means,
 * elementwise arithmetic, reshapes, pads and softmax. Shape-computing ops (Shape, StridedSlice, Pack) and control
 * flow are not converted: they raise UNSUPPORTED_OP naming the node.
 */
import { Graph, type Tensor } from '../../graph/ir.js';
import { TfjsConversionError, unsupportedConfig, unsupportedOp } from './errors.js';
import { Layouts, Names, permute, type ConvertedGraph, type GraphCutOptions, type Value } from './layout.js';
import { applyActivation, batchNormAffine, emitConv, windowPads, type Padding } from './tf-ops.js';
import type { DecodedWeight, WeightData } from './weights.js';

interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

interface TfAttr {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { i?: (string | number)[]; s?: string[]; f?: number[] };
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
}

const FORMAT = 'graph-model';
const ALIASES = new Set(['Identity', 'StopGradient', 'Snapshot', 'PreventGradient']);
const BINARY: Record<string, 'add' | 'sub' | 'mul' | 'div'> = { Add: 'add', AddV2: 'add', BiasAdd: 'add', Sub: 'sub', Mul: 'mul', RealDiv: 'div' };
const UNARY: Record<string, string> = { Relu: 'relu', Relu6: 'relu6', Sigmoid: 'sigmoid', Tanh: 'tanh', Softplus: 'softplus' };

type Const = { kind: 'const'; data: WeightData; shape: number[]; tensor?: Tensor };
type Entry = Value | Const;

function isConst(e: Entry): e is Const {
  return (e as Const).kind === 'const';
}

function bad(message: string): TfjsConversionError {
  return new TfjsConversionError('BAD_MODEL', `${FORMAT}: ${message}`);
}

function str(a: TfAttr | undefined): string | undefined {
  return a?.s === undefined ? undefined : Buffer.from(a.s, 'base64').toString('utf8');
}

function ints(a: TfAttr | undefined): number[] | undefined {
  return a?.list?.i?.map(Number);
}

/** `name`, `name:k` or `^name` (a control input, which inference ignores). */
function parseInput(ref: string): { node: string; index: number } | undefined {
  if (ref.startsWith('^')) return undefined;
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1], index: Number(m[2]) } : { node: ref, index: 0 };
}

export function graphModelToGraph(topology: Record<string, unknown>, weights: ReadonlyMap<string, DecodedWeight>, opts: GraphCutOptions = {}): ConvertedGraph {
  if (!Array.isArray(topology.node)) throw bad('the topology has no node list');
  const nodes = new Map<string, TfNode>();
  for (const n of topology.node as TfNode[]) {
    if (typeof n?.name !== 'string' || typeof n.op !== 'string') throw bad(`malformed node ${JSON.stringify(n).slice(0, 200)}`);
    nodes.set(n.name, n);
  }
  const inputsOf = (n: TfNode) => (n.input ?? []).map(parseInput).filter((x): x is { node: string; index: number } => x !== undefined);

  let outputs = opts.outputs ? [...opts.outputs] : [];
  if (!opts.outputs) {
    const read = new Set<string>();
    for (const n of nodes.values()) for (const i of inputsOf(n)) read.add(i.node);
    outputs = [...nodes.values()].filter((n) => !read.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => n.name);
  }
  for (const o of outputs) if (!nodes.has(o)) throw new TfjsConversionError('UNKNOWN_OUTPUT', `${FORMAT}: no node is named "${o}"`);

  // Nodes the outputs need, inputs first.
  const order: TfNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string) => {
    const n = nodes.get(name);
    if (!n) throw bad(`${from} reads ${name}, which is not a node of the graph`);
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw bad(`the graph has a cycle through ${name}`);
    state.set(name, 'visiting');
    for (const i of inputsOf(n)) visit(i.node, name);
    state.set(name, 'done');
    order.push(n);
  };
  for (const o of outputs) visit(o, 'the output list');

  const g = new Graph();
  const placeholders = order.filter((n) => n.op === 'Placeholder').map((n) => n.name);
  const names = new Names([...outputs, ...placeholders]);
  const layouts = new Layouts(g, names);
  const entries = new Map<string, Entry>();
  const batchDim = opts.batchDim ?? 'N';

  const constOf = (n: TfNode, k: number, what: string): Const => {
    const ref = inputsOf(n)[k];
    const e = ref && entries.get(ref.node);
    if (!e || !isConst(e)) throw unsupportedConfig(n.op, n.name, `a computed ${what} (input ${k} must be a Const)`);
    return e;
  };
  const floats = (c: Const, n: TfNode, what: string): Float32Array => {
    if (!(c.data instanceof Float32Array)) throw new TfjsConversionError('BAD_WEIGHTS', `${FORMAT}: ${n.name}: the ${what} is not float32`);
    return c.data;
  };
  /** A value input; a Const is materialised in the layout of `like` (broadcast over TensorFlow's trailing axes). */
  const valueOf = (n: TfNode, k: number, like?: Value): Value => {
    const ref = inputsOf(n)[k];
    if (!ref) throw bad(`${n.name} (${n.op}) has no input ${k}`);
    const e = entries.get(ref.node)!;
    if (!isConst(e)) return e;
    const data = e.data instanceof Float32Array ? e.data : Float32Array.from(e.data);
    if (like?.nchw && e.shape.length > 0) {
      const full = [...new Array<number>(4 - e.shape.length).fill(1), ...e.shape];
      const p = permute(data, full, [0, 3, 1, 2]);
      return { t: g.constant(p.data, p.shape, names.fresh(`${ref.node}/nchw`)), nchw: true };
    }
    e.tensor ??= g.constant(data, e.shape, names.fresh(ref.node));
    return { t: e.tensor, nchw: false };
  };
  const padding = (n: TfNode): Padding => {
    const p = str(n.attr?.padding);
    if (p === 'SAME') return 'same';
    if (p === 'VALID') return 'valid';
    if (p === 'EXPLICIT') {
      // [batch begin, end, height begin, end, width begin, end, channel begin, end] in NHWC
      const e = ints(n.attr?.explicit_paddings) ?? [];
      if (e.length !== 8) throw bad(`${n.name}: explicit_paddings ${JSON.stringify(e)}`);
      return { top: e[2], bottom: e[3], left: e[4], right: e[5] };
    }
    throw unsupportedConfig(n.op, n.name, `padding ${String(p)}`);
  };
  const nhwcOnly = (n: TfNode) => {
    const f = str(n.attr?.data_format) ?? 'NHWC';
    if (f !== 'NHWC') throw unsupportedConfig(n.op, n.name, `data_format ${f}`);
  };
  const spatialPair = (n: TfNode, attr: string, dflt: number): [number, number] => {
    const v = ints(n.attr?.[attr]);
    if (!v) return [dflt, dflt];
    if (v.length !== 4 || v[0] !== 1 || v[3] !== 1) throw unsupportedConfig(n.op, n.name, `${attr} ${JSON.stringify(v)} (batch and channel must be 1)`);
    return [v[1], v[2]];
  };
  const activation = (n: TfNode, v: Value, op: string): Value => {
    if (op === 'LeakyRelu') return { t: g.leakyRelu(v.t, n.attr?.leakyrelu_alpha?.f ?? n.attr?.alpha?.f ?? 0.2, names.fresh(`${n.name}/leaky`)), nchw: v.nchw };
    const t = UNARY[op] ? applyActivation(g, names, UNARY[op], v.t, n.name) : undefined;
    if (!t) throw unsupportedOp(`fused ${op}`, n.name, FORMAT);
    return { t, nchw: v.nchw };
  };
  const fusedOps = (n: TfNode): string[] => (n.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));

  const convert = (n: TfNode): Entry => {
    const name = n.name;
    if (ALIASES.has(n.op)) return valueOf(n, 0);
    if (n.op in BINARY) {
      const ins = inputsOf(n).map((r) => entries.get(r.node)!);
      if (ins.length !== 2) throw bad(`${name}: ${n.op} of ${ins.length} inputs`);
      if (isConst(ins[0]) && isConst(ins[1])) throw unsupportedConfig(n.op, name, 'two constant operands');
      const values = ins.map((e) => (isConst(e) ? undefined : e));
      let a: Value;
      let b: Value;
      if (values[0] && values[1]) {
        const nchw = (values[0].nchw || values[1].nchw) && values[0].t.shape.length === 4 && values[1].t.shape.length === 4;
        a = { t: nchw ? layouts.nchw(values[0]) : layouts.tf(values[0]), nchw };
        b = { t: nchw ? layouts.nchw(values[1]) : layouts.tf(values[1]), nchw };
      } else {
        const like = (values[0] ?? values[1])!;
        a = valueOf(n, 0, like);
        b = valueOf(n, 1, like);
      }
      const op = BINARY[n.op];
      return { t: g[op](a.t, b.t, names.fresh(`${name}/${op}`)), nchw: a.nchw || b.nchw };
    }
    if (n.op in UNARY || n.op === 'LeakyRelu') return activation(n, valueOf(n, 0), n.op);
    switch (n.op) {
      case 'Placeholder': {
        const dims = (n.attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size ?? -1));
        if (dims.length === 0) throw unsupportedConfig('Placeholder', name, 'an input of unknown rank');
        const rest = opts.inputShape ? [...opts.inputShape] : dims.slice(1);
        if (rest.length !== dims.length - 1 || rest.some((d) => !(d > 0))) throw unsupportedConfig('Placeholder', name, `open input dims [${dims.join(', ')}]; pass inputShape`);
        if ((n.attr?.dtype?.type ?? 'DT_FLOAT') !== 'DT_FLOAT') throw unsupportedConfig('Placeholder', name, `dtype ${n.attr?.dtype?.type} (float inputs only)`);
        return { t: g.input(name, [batchDim, ...rest]), nchw: false };
      }
      case 'Const': {
        const w = weights.get(name);
        if (!w) throw new TfjsConversionError('BAD_WEIGHTS', `${FORMAT}: Const ${name} has no weight in the manifest`);
        return { kind: 'const', data: w.data, shape: w.shape };
      }
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        nhwcOnly(n);
        const x = valueOf(n, 0);
        const filter = constOf(n, 1, 'filter');
        const depthwise = n.op.includes('Depthwise');
        const s = Layouts.tfShape(x);
        if (s.length !== 4 || s.slice(1).some((d) => typeof d !== 'number')) throw unsupportedConfig(n.op, name, `input shape [${s.join(', ')}]`);
        const strides = spatialPair(n, 'strides', 1);
        const dilations = spatialPair(n, 'dilations', 1);
        const fused = n.op.startsWith('_') || n.op.startsWith('Fused') ? fusedOps(n) : [];
        // tfjs-converter fuses BiasAdd then an activation; it never emits a fused batch norm (tfjs cannot run one).
        let bias: Float32Array | undefined;
        let rest = fused;
        if (fused[0] === 'BiasAdd') {
          bias = floats(constOf(n, 2, 'bias'), n, 'bias');
          rest = fused.slice(1);
        }
        const groups = depthwise ? 1 : (s[3] as number) / filter.shape[2];
        let out = emitConv(g, names, layouts, x, {
          kind: depthwise ? 'depthwise' : 'conv', kernel: floats(filter, n, 'filter'), kernelShape: filter.shape, bias, strides, dilations,
          padding: padding(n), groups,
        }, name);
        for (const op of rest) out = activation(n, out, op);
        return out;
      }
      case 'MatMul':
      case '_FusedMatMul': {
        const x = layouts.tf(valueOf(n, 0));
        if (x.shape.length !== 2) throw unsupportedConfig(n.op, name, `an input of rank ${x.shape.length}`);
        if (n.attr?.transpose_a?.b) throw unsupportedConfig(n.op, name, 'transpose_a');
        const wc = constOf(n, 1, 'weight');
        let w = floats(wc, n, 'weight');
        let [k, m] = wc.shape;
        if (n.attr?.transpose_b?.b) {
          w = permute(w, wc.shape, [1, 0]).data;
          [k, m] = [m, k];
        }
        const fused = n.op === '_FusedMatMul' ? fusedOps(n) : [];
        let b: Float32Array = new Float32Array(m);
        let rest = fused;
        if (fused[0] === 'BiasAdd') {
          b = floats(constOf(n, 2, 'bias'), n, 'bias');
          rest = fused.slice(1);
        }
        let out: Value = { t: g.linear(x, g.constant(w, [k, m], names.fresh(`${name}/weight`)), g.constant(b, [m], names.fresh(`${name}/bias`)), names.fresh(`${name}/linear`)), nchw: false };
        for (const op of rest) out = activation(n, out, op);
        return out;
      }
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3': {
        nhwcOnly(n);
        const x = valueOf(n, 0);
        const [scale, offset, mean, variance] = [1, 2, 3, 4].map((k) => floats(constOf(n, k, 'batch norm parameter'), n, 'batch norm parameter'));
        const aff = batchNormAffine({ gamma: scale, beta: offset, mean, variance, epsilon: n.attr?.epsilon?.f ?? 1e-3 });
        const t = layouts.nchw(x);
        const shape = [mean.length, 1, 1];
        const y = g.add(g.mul(t, g.constant(aff.scale, shape, names.fresh(`${name}/scale`)), names.fresh(`${name}/mul`)), g.constant(aff.shift, shape, names.fresh(`${name}/shift`)), names.fresh(`${name}/add`));
        return { t: y, nchw: true };
      }
      case 'AvgPool':
      case 'MaxPool': {
        nhwcOnly(n);
        const x = valueOf(n, 0);
        const s = Layouts.tfShape(x) as number[];
        const kernel = spatialPair(n, 'ksize', 1);
        const strides = spatialPair(n, 'strides', 1);
        const pads = windowPads(padding(n), [s[1], s[2]], kernel, strides);
        const kind = n.op === 'MaxPool' ? 'maxPool' : 'averagePool';
        return { t: g.pool(kind, layouts.nchw(x), kernel, { strides, pads }, names.fresh(`${name}/${kind}`)), nchw: true };
      }
      case 'Mean': {
        const x = valueOf(n, 0);
        const rank = x.t.shape.length;
        const tfAxes = [...constOf(n, 1, 'axis').data].map((a) => (a < 0 ? a + rank : a));
        const keep = n.attr?.keep_dims?.b ?? false;
        const spatialOnly = tfAxes.length === 2 && tfAxes.includes(1) && tfAxes.includes(2);
        // An NCHW tensor reduced over H and W is [N, C] (or [N, C, 1, 1] kept) in either order; otherwise go back to NHWC.
        if (x.nchw && (keep || spatialOnly)) {
          return { t: g.reduceMean(x.t, tfAxes.map((a) => Layouts.axis(x, a)), keep, names.fresh(`${name}/mean`)), nchw: keep };
        }
        return { t: g.reduceMean(layouts.tf(x), tfAxes, keep, names.fresh(`${name}/mean`)), nchw: false };
      }
      case 'Squeeze': {
        const x = valueOf(n, 0);
        const s = Layouts.tfShape(x);
        const listed = ints(n.attr?.squeeze_dims) ?? ints(n.attr?.axis) ?? s.flatMap((d, i) => (d === 1 ? [i] : []));
        const axes = new Set(listed.map((a) => (a < 0 ? a + s.length : a)));
        const target = s.flatMap((d, i) => (axes.has(i) ? [] : [i === 0 ? 0 : (d as number)]));
        // NCHW [N, C, 1, 1] squeezed on H and W is [N, C] in either order.
        const direct = x.nchw && axes.size === 2 && axes.has(1) && axes.has(2);
        return { t: g.reshape(direct ? x.t : layouts.tf(x), target, names.fresh(`${name}/squeeze`)), nchw: false };
      }
      case 'Reshape': {
        const x = valueOf(n, 0);
        const s = Layouts.tfShape(x);
        const shape = [...constOf(n, 1, 'shape').data];
        const inRest = s.slice(1).reduce<number>((a, d) => a * (d as number), 1);
        const outRest = shape.slice(1).reduce((a, d) => a * d, 1);
        if (shape[0] !== -1 || shape.slice(1).some((d) => d < 0) || inRest !== outRest) throw unsupportedConfig('Reshape', name, `shape [${shape.join(', ')}] (only reshapes that keep the batch axis)`);
        return { t: g.reshape(layouts.tf(x), [0, ...shape.slice(1)], names.fresh(`${name}/reshape`)), nchw: false };
      }
      case 'ConcatV2': {
        const refs = inputsOf(n);
        const axis = Number(constOf(n, refs.length - 1, 'axis').data[0]);
        const vs = refs.slice(0, -1).map((_, k) => valueOf(n, k));
        const nchw = vs.some((v) => v.nchw) && vs.every((v) => v.t.shape.length === 4);
        const ts = vs.map((v) => (nchw ? layouts.nchw(v) : layouts.tf(v)));
        return { t: g.concat(ts, Layouts.axis({ t: ts[0], nchw }, axis), names.fresh(`${name}/concat`)), nchw };
      }
      case 'Pad':
      case 'PadV2': {
        const x = valueOf(n, 0);
        const p = [...constOf(n, 1, 'paddings').data];
        if (n.op === 'PadV2' && constOf(n, 2, 'constant value').data[0] !== 0) throw unsupportedConfig('PadV2', name, 'a non-zero constant');
        const rank = x.t.shape.length;
        if (p.length !== 2 * rank) throw bad(`${name}: paddings of ${p.length} values for rank ${rank}`);
        const begin = Array.from({ length: rank }, (_, i) => p[2 * i]);
        const end = Array.from({ length: rank }, (_, i) => p[2 * i + 1]);
        if (rank === 4) {
          const perm = [0, 3, 1, 2];
          return { t: g.pad(layouts.nchw(x), [...perm.map((a) => begin[a]), ...perm.map((a) => end[a])], names.fresh(`${name}/pad`)), nchw: true };
        }
        return { t: g.pad(x.t, [...begin, ...end], names.fresh(`${name}/pad`)), nchw: false };
      }
      case 'Softmax': {
        const x = valueOf(n, 0);
        return { t: g.softmax(x.t, Layouts.axis(x, -1), names.fresh(`${name}/softmax`)), nchw: x.nchw };
      }
      default:
        throw unsupportedOp(n.op, name, FORMAT);
    }
  };

  for (const n of order) {
    for (const r of inputsOf(n)) if (r.index !== 0) throw unsupportedConfig(n.op, n.name, `reading output ${r.index} of ${r.node} (multi-output ops)`);
    entries.set(n.name, convert(n));
  }
  for (const o of outputs) {
    const e = entries.get(o)!;
    if (isConst(e)) throw unsupportedConfig('Const', o, 'a constant as an output');
    g.output(o, layouts.tf(e));
  }
  return { graph: g, inputs: placeholders, outputs };
}
