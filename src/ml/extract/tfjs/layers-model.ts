/**
 * A Keras layers model (TF.js "layers-model": Sequential or functional Model, Keras 2 JSON as tfjs and the Keras
 * converter write it) as an IR graph. Only the layers that the requested outputs need are converted, so cutting at
 * the pooled features drops the classifier head and its weights.
 *
 * Two folds keep the ONNX graph as small as the model's arithmetic: a BatchNormalization whose input is a linear
 * Conv2D / DepthwiseConv2D / SeparableConv2D / Dense read by nothing else goes into that layer's weights, and a
 * ZeroPadding2D read only by a conv goes into the conv's pads. Inputs and outputs keep TensorFlow's NHWC order.
 */
import { Graph, type Tensor } from '../../graph/ir.js';
import { TfjsConversionError, unsupportedConfig, unsupportedOp } from './errors.js';
import { Layouts, Names, type ConvertedGraph, type GraphCutOptions, type Value } from './layout.js';
import { applyActivation, batchNormAffine, emitConv, foldAffine, windowPads, type Padding } from './tf-ops.js';
import type { DecodedWeight } from './weights.js';

interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes?: unknown;
}

const FORMAT = 'layers-model';
/** Inference-time no-ops. */
const IDENTITY_LAYERS = new Set(['Identity', 'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'ActivityRegularization']);
/** Layers with a weight-free linear output that a following batch norm can fold into. */
const FOLDS_BN = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense']);
const FOLDS_PAD = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function bad(message: string): TfjsConversionError {
  return new TfjsConversionError('BAD_MODEL', `${FORMAT}: ${message}`);
}

/** [a, b] from a number or a pair. */
function pair(v: unknown, what: string, layer: KerasLayer): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0], v[1]];
  throw bad(`${layer.name}: ${what} ${JSON.stringify(v)} is not a number or a pair`);
}

/** The names of the layers a layer reads (Keras 2 `[[name, node, tensor, kwargs], ...]` or Keras 3 `{args}` form). */
function inboundOf(layer: KerasLayer): string[] {
  const nodes = layer.inbound_nodes;
  if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) return [];
  if (!Array.isArray(nodes)) throw bad(`${layer.name}: inbound_nodes is not a list`);
  if (nodes.length > 1) throw unsupportedConfig(layer.class_name, layer.name, 'a layer applied more than once (a shared layer)');
  const node = nodes[0];
  const refs: unknown[][] = [];
  if (Array.isArray(node)) {
    for (const r of node) if (Array.isArray(r)) refs.push(r);
  } else if (isRecord(node)) {
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (isRecord(x)) {
        const h = isRecord(x.config) ? x.config.keras_history : undefined;
        if (Array.isArray(h)) refs.push(h);
        else Object.values(x).forEach(walk);
      }
    };
    walk(node.args);
  }
  return refs.map((r) => {
    const [name, nodeIndex, tensorIndex] = r as [unknown, unknown, unknown];
    if (typeof name !== 'string') throw bad(`${layer.name}: an inbound reference has no layer name`);
    if ((nodeIndex ?? 0) !== 0 || (tensorIndex ?? 0) !== 0) {
      throw unsupportedConfig(layer.class_name, layer.name, `reading output ${String(tensorIndex)} of node ${String(nodeIndex)} of ${name} (multi-output or shared layers)`);
    }
    return name;
  });
}

interface Topology {
  layers: Map<string, KerasLayer>;
  inputsOf: Map<string, string[]>;
  modelInputs: string[];
  modelOutputs: string[];
}

function parseTopology(topology: Record<string, unknown>): Topology {
  const root = isRecord(topology.model_config) ? topology.model_config : topology;
  const cls = root.class_name;
  const config = root.config;
  const layers = new Map<string, KerasLayer>();
  const inputsOf = new Map<string, string[]>();
  const add = (l: KerasLayer, inputs: string[]) => {
    if (!isRecord(l) || typeof l.name !== 'string' || typeof l.class_name !== 'string') throw bad(`malformed layer ${JSON.stringify(l).slice(0, 200)}`);
    if (layers.has(l.name)) throw bad(`two layers are named ${l.name}`);
    layers.set(l.name, { ...l, config: isRecord(l.config) ? l.config : {} });
    inputsOf.set(l.name, inputs);
  };
  if (cls === 'Sequential') {
    const list = (Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined) as KerasLayer[] | undefined;
    if (!Array.isArray(list) || list.length === 0) throw bad('a Sequential model without layers');
    // Sequential layers carry their own names in config.name (old Keras) or at the top.
    const named = list.map((l) => ({ ...l, name: l.name ?? (isRecord(l.config) ? (l.config.name as string) : undefined) }) as KerasLayer);
    let prev: string;
    let start = 0;
    if (named[0].class_name === 'InputLayer') {
      add(named[0], []);
      prev = named[0].name;
      start = 1;
    } else {
      const shape = named[0].config?.batch_input_shape ?? named[0].config?.batch_shape;
      if (!Array.isArray(shape)) throw bad(`the first layer ${named[0].name} has no batch_input_shape`);
      prev = `${named[0].name}_input`;
      add({ name: prev, class_name: 'InputLayer', config: { batch_input_shape: shape, dtype: named[0].config?.dtype ?? 'float32' } }, []);
    }
    for (const l of named.slice(start)) {
      add(l, [prev]);
      prev = l.name;
    }
    return { layers, inputsOf, modelInputs: [named[0].class_name === 'InputLayer' ? named[0].name : `${named[0].name}_input`], modelOutputs: [prev] };
  }
  if (cls !== 'Model' && cls !== 'Functional') throw bad(`unknown model class ${JSON.stringify(cls)} (Sequential, Model, Functional)`);
  if (!isRecord(config) || !Array.isArray(config.layers)) throw bad('a functional model without layers');
  for (const l of config.layers as KerasLayer[]) add(l, inboundOf(l));
  const refNames = (refs: unknown, what: string): string[] => {
    // [[name, 0, 0], ...] or a single [name, 0, 0]
    const list = Array.isArray(refs) && refs.length > 0 && typeof refs[0] === 'string' ? [refs] : refs;
    if (!Array.isArray(list)) throw bad(`${what} is not a list`);
    return list.map((r) => {
      if (!Array.isArray(r) || typeof r[0] !== 'string') throw bad(`malformed ${what} entry ${JSON.stringify(r)}`);
      if ((r[2] ?? 0) !== 0) throw unsupportedConfig('Model', r[0], 'a multi-output layer as a model input or output');
      return r[0];
    });
  };
  return { layers, inputsOf, modelInputs: refNames(config.input_layers, 'input_layers'), modelOutputs: refNames(config.output_layers, 'output_layers') };
}

/** The layers `outputs` need, inputs first. */
function order(topo: Topology, outputs: readonly string[]): KerasLayer[] {
  const out: KerasLayer[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string) => {
    const layer = topo.layers.get(name);
    if (!layer) throw bad(`${from} reads ${name}, which is not a layer of the model`);
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw bad(`the layers form a cycle through ${name}`);
    state.set(name, 'visiting');
    for (const i of topo.inputsOf.get(name)!) visit(i, name);
    state.set(name, 'done');
    out.push(layer);
  };
  for (const o of outputs) visit(o, 'the output list');
  return out;
}

export function layersModelToGraph(topology: Record<string, unknown>, weights: ReadonlyMap<string, DecodedWeight>, opts: GraphCutOptions = {}): ConvertedGraph {
  const topo = parseTopology(topology);
  const outputs = [...(opts.outputs ?? topo.modelOutputs)];
  for (const o of outputs) {
    if (!topo.layers.has(o)) {
      const some = [...topo.layers.keys()].slice(-8).join(', ');
      throw new TfjsConversionError('UNKNOWN_OUTPUT', `${FORMAT}: no layer is named "${o}" (the last layers are ${some})`);
    }
  }
  const layers = order(topo, outputs);
  const inputsOf = (l: KerasLayer) => topo.inputsOf.get(l.name)!;

  // Readers of each layer's output among the converted layers (an output counts as one).
  const readers = new Map<string, number>();
  for (const l of layers) for (const i of inputsOf(l)) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of outputs) readers.set(o, (readers.get(o) ?? 0) + 1);
  const soleReader = (name: string) => readers.get(name) === 1 && !outputs.includes(name);

  // Folds: producer -> the batch norm folded into it; conv -> the zero padding folded into it.
  const bnInto = new Map<string, KerasLayer>();
  const padInto = new Map<string, KerasLayer>();
  const folded = new Set<string>();
  for (const l of layers) {
    const ins = inputsOf(l);
    if (ins.length !== 1) continue;
    const p = topo.layers.get(ins[0])!;
    if (l.class_name === 'BatchNormalization' && FOLDS_BN.has(p.class_name) && soleReader(p.name) && (p.config.activation ?? 'linear') === 'linear') {
      const axis = Array.isArray(l.config.axis) ? l.config.axis : [l.config.axis ?? -1];
      const rank = p.class_name === 'Dense' ? 2 : 4;
      if (axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1)) {
        bnInto.set(p.name, l);
        folded.add(l.name);
      }
    }
    if (FOLDS_PAD.has(l.class_name) && p.class_name === 'ZeroPadding2D' && soleReader(p.name) && (p.config.data_format ?? 'channels_last') === 'channels_last') {
      padInto.set(l.name, p);
      folded.add(p.name);
    }
  }

  const g = new Graph();
  const names = new Names([...outputs, ...topo.modelInputs]);
  const layouts = new Layouts(g, names);
  const values = new Map<string, Value>();
  const batchDim = opts.batchDim ?? 'N';
  const graphInputs: string[] = [];

  const weight = (l: KerasLayer, key: string, shape?: readonly number[]): Float32Array => {
    const w = optionalWeight(l, key, shape);
    if (!w) throw new TfjsConversionError('BAD_WEIGHTS', `${FORMAT}: layer ${l.name} (${l.class_name}) has no weight "${l.name}/${key}"`);
    return w;
  };
  const optionalWeight = (l: KerasLayer, key: string, shape?: readonly number[]): Float32Array | undefined => {
    let w = weights.get(`${l.name}/${key}`);
    if (!w) for (const [k, v] of weights) if (k.endsWith(`/${l.name}/${key}`)) w = v;
    if (!w) return undefined;
    if (w.dtype !== 'float32') throw new TfjsConversionError('BAD_WEIGHTS', `${FORMAT}: weight ${w.name} is ${w.dtype}, not float32`);
    if (shape && (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))) {
      throw new TfjsConversionError('BAD_WEIGHTS', `${FORMAT}: weight ${w.name} is [${w.shape.join(', ')}], layer ${l.name} needs [${shape.join(', ')}]`);
    }
    return w.data as Float32Array;
  };
  const bnParams = (bn: KerasLayer, channels: number) => {
    const eps = typeof bn.config.epsilon === 'number' ? bn.config.epsilon : 1e-3;
    return batchNormAffine({
      gamma: bn.config.scale === false ? undefined : weight(bn, 'gamma', [channels]),
      beta: bn.config.center === false ? undefined : weight(bn, 'beta', [channels]),
      mean: weight(bn, 'moving_mean', [channels]),
      variance: weight(bn, 'moving_variance', [channels]),
      epsilon: eps,
    });
  };
  const padding = (l: KerasLayer): Padding => {
    const p = l.config.padding ?? 'valid';
    if (p === 'valid' || p === 'same') return p;
    throw unsupportedConfig(l.class_name, l.name, `padding ${JSON.stringify(p)}`);
  };
  const zeroPads = (z: KerasLayer): [number, number, number, number] => {
    const p = z.config.padding ?? 1;
    if (typeof p === 'number') return [p, p, p, p];
    if (Array.isArray(p) && p.length === 2) {
      const [a, b] = p as unknown[];
      if (typeof a === 'number' && typeof b === 'number') return [a, a, b, b];
      if (Array.isArray(a) && Array.isArray(b)) return [a[0], a[1], b[0], b[1]] as [number, number, number, number];
    }
    throw bad(`${z.name}: padding ${JSON.stringify(p)}`);
  };
  const channelsLast = (l: KerasLayer) => {
    if ((l.config.data_format ?? 'channels_last') !== 'channels_last') throw unsupportedConfig(l.class_name, l.name, `data_format ${String(l.config.data_format)}`);
  };
  const activate = (l: KerasLayer, v: Value, activation = (l.config.activation as string | undefined) ?? 'linear'): Value => {
    const axis = Layouts.axis(v, -1);
    const t = applyActivation(g, names, activation, v.t, l.name, axis);
    if (!t) throw unsupportedOp(`activation "${activation}"`, l.name, FORMAT);
    return { t, nchw: v.nchw };
  };
  const rank4 = (l: KerasLayer, v: Value): number[] => {
    const s = Layouts.tfShape(v);
    if (s.length !== 4 || s.slice(1).some((d) => typeof d !== 'number')) throw unsupportedConfig(l.class_name, l.name, `input shape [${s.join(', ')}] (a static [N, H, W, C] is needed)`);
    return s as number[];
  };

  const convert = (l: KerasLayer): Value => {
    const c = l.config;
    const ins = inputsOf(l).map((n) => values.get(n)!);
    const x = ins[0];
    const name = l.name;
    if (l.class_name !== 'InputLayer' && ins.length === 0) throw bad(`${name} (${l.class_name}) has no input`);
    if (IDENTITY_LAYERS.has(l.class_name)) return x;
    switch (l.class_name) {
      case 'InputLayer': {
        const declared = (c.batch_input_shape ?? c.batch_shape ?? c.batchInputShape) as (number | null)[] | undefined;
        if (!Array.isArray(declared)) throw bad(`input ${name} has no batch_input_shape`);
        if ((c.dtype ?? 'float32') !== 'float32') throw unsupportedConfig('InputLayer', name, `dtype ${String(c.dtype)} (float32 inputs only)`);
        const dims = opts.inputShape ? [...opts.inputShape] : declared.slice(1);
        if (dims.length !== declared.length - 1) throw bad(`inputShape [${dims.join(', ')}] does not match the input's rank ${declared.length}`);
        if (dims.some((d) => typeof d !== 'number' || d < 1)) throw unsupportedConfig('InputLayer', name, `open input dims [${declared.join(', ')}]; pass inputShape`);
        graphInputs.push(name);
        return { t: g.input(name, [batchDim, ...(dims as number[])]), nchw: false };
      }
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'SeparableConv2D': {
        channelsLast(l);
        const pad = padInto.get(name);
        const src = pad ? values.get(inputsOf(pad)[0])! : x;
        const [, , , cin] = rank4(l, src);
        const [kh, kw] = pair(c.kernel_size, 'kernel_size', l);
        const strides = pair(c.strides ?? 1, 'strides', l);
        const dilations = pair(c.dilation_rate ?? 1, 'dilation_rate', l);
        const prePad = pad ? zeroPads(pad) : undefined;
        const bn = bnInto.get(name);
        const useBias = c.use_bias !== false;
        if (l.class_name === 'Conv2D') {
          const filters = c.filters as number;
          const groups = (c.groups as number | undefined) ?? 1;
          const kernelShape = [kh, kw, cin / groups, filters];
          const out = emitConv(g, names, layouts, src, {
            kind: 'conv', kernel: weight(l, 'kernel', kernelShape), kernelShape, bias: useBias ? weight(l, 'bias', [filters]) : undefined,
            strides, dilations, padding: padding(l), prePad, groups, affine: bn ? bnParams(bn, filters) : undefined,
          }, name);
          return activate(l, out);
        }
        // tfjs saves SeparableConv2D without depth_multiplier: the kernel's last dim says it.
        const mult = (c.depth_multiplier as number | undefined) ?? weights.get(`${name}/depthwise_kernel`)?.shape[3] ?? 1;
        const dwShape = [kh, kw, cin, mult];
        if (l.class_name === 'DepthwiseConv2D') {
          const out = emitConv(g, names, layouts, src, {
            kind: 'depthwise', kernel: weight(l, 'depthwise_kernel', dwShape), kernelShape: dwShape, bias: useBias ? weight(l, 'bias', [cin * mult]) : undefined,
            strides, dilations, padding: padding(l), prePad, affine: bn ? bnParams(bn, cin * mult) : undefined,
          }, name);
          return activate(l, out);
        }
        const filters = c.filters as number;
        const dw = emitConv(g, names, layouts, src, {
          kind: 'depthwise', kernel: weight(l, 'depthwise_kernel', dwShape), kernelShape: dwShape, strides, dilations, padding: padding(l), prePad,
        }, `${name}/depthwise`);
        const pwShape = [1, 1, cin * mult, filters];
        const out = emitConv(g, names, layouts, dw, {
          kind: 'conv', kernel: weight(l, 'pointwise_kernel', pwShape), kernelShape: pwShape, bias: useBias ? weight(l, 'bias', [filters]) : undefined,
          strides: [1, 1], dilations: [1, 1], padding: 'valid', affine: bn ? bnParams(bn, filters) : undefined,
        }, `${name}/pointwise`);
        return activate(l, out);
      }
      case 'Dense': {
        const t = layouts.tf(x);
        if (t.shape.length !== 2) throw unsupportedConfig('Dense', name, `an input of rank ${t.shape.length} (rank 2 only)`);
        const units = c.units as number;
        const k = t.shape[1] as number;
        let w = weight(l, 'kernel', [k, units]);
        let b = c.use_bias !== false ? weight(l, 'bias', [units]) : new Float32Array(units);
        const bn = bnInto.get(name);
        if (bn) {
          const { scale, shift } = bnParams(bn, units);
          ({ w, b } = foldAffine(w, units, b, scale, shift, true));
        }
        const y = g.linear(t, g.constant(w, [k, units], names.fresh(`${name}/kernel`)), g.constant(b, [units], names.fresh(`${name}/bias`)), names.fresh(`${name}/linear`));
        return activate(l, { t: y, nchw: false });
      }
      case 'BatchNormalization': {
        if (folded.has(name)) return x;
        const rank = x.t.shape.length;
        const axisList = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
        if (axisList.length !== 1 || typeof axisList[0] !== 'number') throw unsupportedConfig('BatchNormalization', name, `axis ${JSON.stringify(c.axis)}`);
        const stored = Layouts.axis(x, axisList[0] as number);
        const channels = x.t.shape[stored];
        if (typeof channels !== 'number') throw unsupportedConfig('BatchNormalization', name, 'a symbolic channel axis');
        const { scale, shift } = bnParams(l, channels);
        const shape = [channels, ...new Array<number>(rank - 1 - stored).fill(1)];
        const y = g.add(
          g.mul(x.t, g.constant(scale, shape, names.fresh(`${name}/scale`)), names.fresh(`${name}/mul`)),
          g.constant(shift, shape, names.fresh(`${name}/shift`)),
          names.fresh(`${name}/add`),
        );
        return { t: y, nchw: x.nchw };
      }
      case 'Activation':
        return activate(l, x, c.activation as string);
      case 'Rescaling': {
        const scale = c.scale as number;
        const offset = (c.offset as number | undefined) ?? 0;
        if (typeof scale !== 'number' || typeof offset !== 'number') throw unsupportedConfig('Rescaling', name, 'per-channel scale or offset');
        const y = g.mul(x.t, scale, names.fresh(`${name}/scale`));
        return { t: offset === 0 ? y : g.add(y, offset, names.fresh(`${name}/offset`)), nchw: x.nchw };
      }
      case 'ReLU': {
        const max = c.max_value ?? null;
        const slope = (c.negative_slope as number | undefined) ?? 0;
        if ((c.threshold ?? 0) !== 0) throw unsupportedConfig('ReLU', name, `threshold ${String(c.threshold)}`);
        let t = slope === 0 ? g.relu(x.t, names.fresh(`${name}/relu`)) : g.leakyRelu(x.t, slope, names.fresh(`${name}/leaky`));
        if (typeof max === 'number') t = g.clip(t, slope === 0 ? 0 : -Infinity, max, names.fresh(`${name}/clip`));
        return { t, nchw: x.nchw };
      }
      case 'LeakyReLU':
        return { t: g.leakyRelu(x.t, (c.alpha as number | undefined) ?? (c.negative_slope as number | undefined) ?? 0.3, names.fresh(`${name}/leaky`)), nchw: x.nchw };
      case 'Softmax':
        return { t: g.softmax(x.t, Layouts.axis(x, (c.axis as number | undefined) ?? -1), names.fresh(`${name}/softmax`)), nchw: x.nchw };
      case 'ZeroPadding2D': {
        if (folded.has(name)) return x;
        channelsLast(l);
        const [t, b, left, r] = zeroPads(l);
        return { t: g.pad(layouts.nchw(x), [0, 0, t, left, 0, 0, b, r], names.fresh(`${name}/pad`)), nchw: true };
      }
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        channelsLast(l);
        const [, h, w] = rank4(l, x);
        const pool = pair(c.pool_size ?? 2, 'pool_size', l);
        const strides = pair(c.strides ?? pool, 'strides', l);
        const pads = windowPads(padding(l), [h, w], pool, strides);
        const kind = l.class_name === 'MaxPooling2D' ? 'maxPool' : 'averagePool';
        return { t: g.pool(kind, layouts.nchw(x), pool, { strides, pads }, names.fresh(`${name}/${kind}`)), nchw: true };
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        channelsLast(l);
        const [, h, w] = rank4(l, x);
        const input = layouts.nchw(x);
        const pooled = l.class_name === 'GlobalAveragePooling2D'
          ? g.globalAveragePool(input, names.fresh(`${name}/gap`))
          : g.pool('maxPool', input, [h, w], {}, names.fresh(`${name}/gmp`));
        if (c.keepdims === true) return { t: pooled, nchw: true };
        return { t: g.reshape(pooled, [0, -1], names.fresh(`${name}/flatten`)), nchw: false };
      }
      case 'Flatten': {
        // NCHW with 1x1 spatial flattens in the same order as NHWC: no transpose needed.
        const s = Layouts.tfShape(x);
        const spatial1 = x.nchw && s[1] === 1 && s[2] === 1;
        return { t: g.reshape(spatial1 ? x.t : layouts.tf(x), [0, -1], names.fresh(`${name}/flatten`)), nchw: false };
      }
      case 'Reshape': {
        const target = c.target_shape as number[];
        if (!Array.isArray(target)) throw bad(`${name}: Reshape without target_shape`);
        return { t: g.reshape(layouts.tf(x), [0, ...target], names.fresh(`${name}/reshape`)), nchw: false };
      }
      case 'Add':
      case 'Subtract':
      case 'Multiply':
      case 'Average':
      case 'Concatenate': {
        const nchw = ins.some((v) => v.nchw) && ins.every((v) => v.t.shape.length === 4);
        const ts = ins.map((v) => (nchw ? layouts.nchw(v) : layouts.tf(v)));
        const rank = ts[0].shape.length;
        if (ts.some((t) => t.shape.length !== rank)) throw unsupportedConfig(l.class_name, name, 'inputs of different ranks');
        if (l.class_name === 'Concatenate') {
          const axis = (c.axis as number | undefined) ?? -1;
          return { t: g.concat(ts, Layouts.axis({ t: ts[0], nchw }, axis), names.fresh(`${name}/concat`)), nchw };
        }
        if (l.class_name === 'Subtract') {
          if (ts.length !== 2) throw bad(`${name}: Subtract of ${ts.length} inputs`);
          return { t: g.sub(ts[0], ts[1], names.fresh(`${name}/sub`)), nchw };
        }
        let acc: Tensor = ts[0];
        for (let i = 1; i < ts.length; i++) {
          acc = l.class_name === 'Multiply' ? g.mul(acc, ts[i], names.fresh(`${name}/mul`)) : g.add(acc, ts[i], names.fresh(`${name}/add`));
        }
        if (l.class_name === 'Average') acc = g.mul(acc, 1 / ts.length, names.fresh(`${name}/mean`));
        return { t: acc, nchw };
      }
      default:
        throw unsupportedOp(l.class_name, name, FORMAT);
    }
  };

  for (const l of layers) values.set(l.name, convert(l));
  for (const o of outputs) g.output(o, layouts.tf(values.get(o)!));
  return { graph: g, inputs: graphInputs, outputs };
}
