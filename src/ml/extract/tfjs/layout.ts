/**
 * TensorFlow is channels-last (NHWC), ONNX's Conv and pools are channels-first (NCHW). The converters keep each
 * converted tensor in whichever layout its producer made, and transpose only where a consumer needs the other one
 * (once per tensor, cached): a chain of convs stays NCHW from the first transpose after the input to the last pool.
 */
import type { Graph, Tensor } from '../../graph/ir.js';
import type { Dim } from '../../graph/shape.js';

/** A converted tensor: `nchw` says it holds the channels-first transpose of the TensorFlow (rank-4, NHWC) tensor. */
/** What either converter (layers-model.ts, graph-model.ts) returns: the graph and its input and output names. */
export interface ConvertedGraph {
  graph: Graph;
  inputs: string[];
  outputs: string[];
}

/** Options both converters take. */
export interface GraphCutOptions {
  /** Layer or node names to output (default: the model's outputs, or the nodes nothing else reads). */
  outputs?: readonly string[];
  /** The input's dims after the batch axis, for a model that leaves them open (null). */
  inputShape?: readonly number[];
  /** The symbolic batch dim of the ONNX input (default 'N'). */
  batchDim?: string;
}

export interface Value {
  t: Tensor;
  nchw: boolean;
}

export const TO_NCHW = [0, 3, 1, 2] as const;
export const TO_NHWC = [0, 2, 3, 1] as const;
/** TF axis -> axis of the NCHW tensor. */
const NHWC_AXIS_IN_NCHW = [0, 2, 3, 1];

/** Unique IR value names derived from layer or node names. */
export class Names {
  private readonly used = new Set<string>();
  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }
}

export class Layouts {
  private readonly toFirst = new Map<number, Tensor>();
  private readonly toLast = new Map<number, Tensor>();

  constructor(
    private readonly g: Graph,
    private readonly names: Names,
  ) {}

  /** The value as an NCHW tensor (it must be rank 4). */
  nchw(v: Value): Tensor {
    if (v.nchw) return v.t;
    if (v.t.shape.length !== 4) throw new Error(`layout: ${v.t.name} ${JSON.stringify(v.t.shape)} is not rank 4`);
    let t = this.toFirst.get(v.t.id);
    if (!t) {
      t = this.g.transpose(v.t, TO_NCHW, this.names.fresh(`${v.t.name}/nchw`));
      this.toFirst.set(v.t.id, t);
      this.toLast.set(t.id, v.t);
    }
    return t;
  }

  /** The value in TensorFlow's order (NHWC for rank 4). */
  tf(v: Value): Tensor {
    if (!v.nchw) return v.t;
    let t = this.toLast.get(v.t.id);
    if (!t) {
      t = this.g.transpose(v.t, TO_NHWC, this.names.fresh(`${v.t.name}/nhwc`));
      this.toLast.set(v.t.id, t);
      this.toFirst.set(t.id, v.t);
    }
    return t;
  }

  /** The TensorFlow-order shape of a value. */
  static tfShape(v: Value): Dim[] {
    return v.nchw ? TO_NHWC.map((p) => v.t.shape[p]) : [...v.t.shape];
  }

  /** Where TF axis `axis` (negative counts from the end) is in the stored tensor. */
  static axis(v: Value, axis: number): number {
    const rank = v.t.shape.length;
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
    return v.nchw ? NHWC_AXIS_IN_NCHW[a] : a;
  }
}

/** A copy of `data` (shape `shape`) with its axes permuted: out axis i is input axis perm[i]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const stride = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i] * stride[i];
    out[o] = data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape: outShape };
}
