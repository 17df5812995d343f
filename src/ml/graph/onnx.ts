/**
 * Serialise a part of an IR graph to an ONNX model (IR version 8, default opset 17) with `onnx-proto`.
 *
 * Only the nodes that the chosen outputs need are written; graph inputs are the data inputs those nodes read.
 * Params are written either as initializers (frozen: inference) or as graph inputs (fed each run: training, eval).
 */
import onnxProto from 'onnx-proto';
import type { Graph, Node } from './ir.js';
import { samePadding, type Dim } from './shape.js';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export interface EmitOptions {
  /** Output names of `graph.outputs` to write, in this order. */
  outputs: readonly string[];
  /** 'initializers' freezes the params' current values (`values`, else their init); 'inputs' makes them graph inputs. */
  params: 'initializers' | 'inputs';
  /** Param values to freeze, by param name (default: each param's init). */
  values?: ReadonlyMap<string, Float32Array>;
  /** Extra graph inputs to declare even if unused (rare; normally unused inputs are dropped). */
  keepInputs?: readonly string[];
  graphName?: string;
  metadata?: Readonly<Record<string, string>>;
  docString?: string;
}

export function valueInfo(name: string, shape: readonly Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function floatTensor(name: string, data: Float32Array, dims: readonly number[]): ITensorProto {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dataType: FLOAT, dims: [...dims], rawData: raw };
}

function int64Tensor(name: string, values: readonly number[]): ITensorProto {
  return { name, dataType: INT64, dims: [values.length], int64Data: [...values] };
}

/** Emits the ONNX nodes for one IR node; `c` makes (deduplicated) constant initializers. */
class Emitter {
  readonly nodes: INodeProto[] = [];
  readonly initializers: ITensorProto[] = [];
  private readonly constNames = new Map<string, string>();

  constructor(private readonly g: Graph) {}

  private ints(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.constNames.get(key);
    if (!name) {
      name = `__i64_${this.constNames.size}`;
      this.constNames.set(key, name);
      this.initializers.push(int64Tensor(name, values));
    }
    return name;
  }

  private float(value: number): string {
    const key = `f32:${value}`;
    let name = this.constNames.get(key);
    if (!name) {
      name = `__f32_${this.constNames.size}`;
      this.constNames.set(key, name);
      this.initializers.push(floatTensor(name, Float32Array.of(value), []));
    }
    return name;
  }

  private add(opType: string, input: string[], output: string, attribute: INodeProto['attribute'] = []): void {
    this.nodes.push({ opType, input, output: [output], name: `${output}/${opType}`, attribute });
  }

  private static int(name: string, i: number) {
    return { name, type: onnx.AttributeProto.AttributeType.INT, i };
  }

  private static intList(name: string, ints: number[]) {
    return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
  }

  /** kernel_shape, strides, pads and dilations of a conv node. */
  private static window(n: Node) {
    const a = n.attrs;
    return [Emitter.intList('kernel_shape', a.kernelShape!), Emitter.intList('strides', a.strides!), Emitter.intList('pads', a.pads!), Emitter.intList('dilations', a.dilations!)];
  }

  /**
   * kernel_shape, strides and padding of a pool node. onnxruntime's PadFusion merges a zero Pad into a following
   * MaxPool or AveragePool unless the pool sets auto_pad, which is wrong for both (MaxPool pads with -inf, this
   * AveragePool excludes padding from the mean). So a pool without pads says auto_pad VALID, and one whose pads are
   * TensorFlow's SAME ones (the only padded pools the TF.js converters make) says SAME_UPPER; explicit pads remain
   * for any other padding, and a zero Pad right before such a pool would be fused wrongly.
   */
  private poolWindow(n: Node) {
    const a = n.attrs;
    const out: IAttributeProto[] = [Emitter.intList('kernel_shape', a.kernelShape!), Emitter.intList('strides', a.strides!)];
    const autoPad = (mode: string) => ({ name: 'auto_pad', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(mode) });
    const pads = a.pads!;
    if (pads.every((p) => p === 0)) return [...out, autoPad('VALID')];
    const k = a.kernelShape!.length;
    const spatial = this.g.values[n.inputs[0]].shape.slice(2);
    const same = spatial.every((d, i) => {
      if (typeof d !== 'number') return false;
      const [b, e] = samePadding(d, a.kernelShape![i], a.strides![i]);
      return pads[i] === b && pads[i + k] === e;
    });
    out.push(same ? autoPad('SAME_UPPER') : Emitter.intList('pads', pads));
    return out;
  }

  emit(n: Node): void {
    const name = (id: number) => this.g.values[id].name;
    const ins = n.inputs.map(name);
    const out = name(n.output);
    const simple: Partial<Record<Node['op'], string>> = {
      add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div', neg: 'Neg', relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh',
      exp: 'Exp', log: 'Log', sqrt: 'Sqrt', softplus: 'Softplus', abs: 'Abs', identity: 'Identity', sign: 'Sign',
      matmul: 'MatMul', linear: 'Gemm',
    };
    const direct = simple[n.op];
    if (direct) return this.add(direct, ins, out);
    switch (n.op) {
      case 'pow':
        return this.add('Pow', [ins[0], this.float(n.attrs.exponent!)], out);
      case 'gemm':
        return this.add('Gemm', ins, out, [Emitter.int('transA', n.attrs.transA ? 1 : 0), Emitter.int('transB', n.attrs.transB ? 1 : 0)]);
      case 'concat':
        return this.add('Concat', ins, out, [Emitter.int('axis', n.attrs.axis!)]);
      case 'reduceSum':
        return this.add('ReduceSum', [ins[0], this.ints(n.attrs.axes!)], out, [Emitter.int('keepdims', n.attrs.keepdims ? 1 : 0)]);
      case 'reduceMean':
        return this.add('ReduceMean', [ins[0]], out, [Emitter.intList('axes', n.attrs.axes!), Emitter.int('keepdims', n.attrs.keepdims ? 1 : 0)]);
      case 'expandAs':
        this.add('Shape', [ins[1]], `${out}__shape`);
        return this.add('Expand', [ins[0], `${out}__shape`], out);
      case 'slice':
        return this.add('Slice', [ins[0], this.ints([n.attrs.start!]), this.ints([n.attrs.end!]), this.ints([n.attrs.axis!])], out);
      case 'unsqueeze':
        return this.add('Unsqueeze', [ins[0], this.ints(n.attrs.axes!)], out);
      case 'countRatio': {
        const to = [Emitter.int('to', FLOAT)];
        this.add('Size', [ins[1]], `${out}__nbig`);
        this.add('Size', [ins[2]], `${out}__nsmall`);
        this.add('Cast', [`${out}__nbig`], `${out}__fbig`, to);
        this.add('Cast', [`${out}__nsmall`], `${out}__fsmall`, to);
        this.add('Div', [`${out}__fsmall`, `${out}__fbig`], `${out}__ratio`);
        return this.add('Mul', [ins[0], `${out}__ratio`], out);
      }
      case 'conv':
        return this.add('Conv', ins, out, [...Emitter.window(n), Emitter.int('group', n.attrs.group ?? 1)]);
      case 'averagePool':
        // count_include_pad 0: padded cells do not count, as in TensorFlow's SAME average pooling
        return this.add('AveragePool', ins, out, [...this.poolWindow(n), Emitter.int('count_include_pad', 0)]);
      case 'maxPool':
        return this.add('MaxPool', ins, out, this.poolWindow(n));
      case 'globalAveragePool':
        return this.add('GlobalAveragePool', ins, out);
      case 'clip':
        return this.add('Clip', [ins[0], this.float(n.attrs.min!), this.float(n.attrs.max!)], out);
      case 'leakyRelu':
        return this.add('LeakyRelu', ins, out, [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: n.attrs.alpha! }]);
      case 'softmax':
        return this.add('Softmax', ins, out, [Emitter.int('axis', n.attrs.axis!)]);
      case 'transpose':
        return this.add('Transpose', ins, out, [Emitter.intList('perm', n.attrs.perm!)]);
      case 'reshape':
        return this.add('Reshape', [ins[0], this.ints(n.attrs.shape!)], out);
      case 'pad':
        return this.add('Pad', [ins[0], this.ints(n.attrs.pads!), this.float(0)], out);
      default:
        throw new Error(`cannot emit op "${n.op}"`);
    }
  }
}

/** Encode the chosen outputs of `graph` as an ONNX model. */
export function toOnnx(graph: Graph, opts: EmitOptions): Uint8Array {
  const outIds = opts.outputs.map((o) => {
    const id = graph.outputs.get(o);
    if (id === undefined) throw new Error(`graph has no output "${o}"`);
    return id;
  });
  const order = graph.needed(outIds);
  const used = graph.usedValues(order, outIds);
  const em = new Emitter(graph);
  const inputs: IValueInfoProto[] = [];
  for (const id of graph.inputs) {
    const v = graph.values[id];
    if (used.has(id) || opts.keepInputs?.includes(v.name)) inputs.push(valueInfo(v.name, v.shape));
  }
  for (const p of graph.params) {
    if (!used.has(p.id)) continue;
    if (opts.params === 'inputs') inputs.push(valueInfo(p.name, p.shape));
    else em.initializers.push(floatTensor(p.name, opts.values?.get(p.name) ?? p.init, p.shape));
  }
  for (const [id, data] of graph.consts) {
    if (used.has(id)) em.initializers.push(floatTensor(graph.values[id].name, data, graph.values[id].shape as number[]));
  }
  for (const i of order) em.emit(graph.nodes[i]);
  // An output that is directly an input/param/const, or listed twice, needs its own node to carry the output name.
  const outputs: IValueInfoProto[] = opts.outputs.map((o, k) => {
    const v = graph.values[outIds[k]];
    if (v.name !== o) em.nodes.push({ opType: 'Identity', input: [v.name], output: [o], name: `${o}/Identity` });
    return valueInfo(o, v.shape);
  });
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'memer',
    producerVersion: '1',
    docString: opts.docString ?? '',
    graph: { name: opts.graphName ?? 'memer', node: em.nodes, initializer: em.initializers, input: inputs, output: outputs },
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Read the metadata_props of an encoded model (without onnxruntime). */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const model = onnx.ModelProto.decode(bytes);
  const out: Record<string, string> = {};
  for (const p of model.metadataProps) if (p.key) out[p.key] = p.value ?? '';
  return out;
}
