/**
 * Building blocks shared by the layers-model and graph-model converters: TensorFlow's conv kernels (HWIO, and HWCM
 * for depthwise) as ONNX Conv weights, SAME padding, batch-norm folding, activations.
 */
import type { Graph, Tensor } from '../../graph/ir.js';
import { samePadding } from '../../graph/shape.js';
import { Layouts, Names, permute, type Value } from './layout.js';

export type Padding = 'valid' | 'same' | { top: number; bottom: number; left: number; right: number };

export interface ConvSpec {
  /** 'conv': kernel [kh, kw, in/groups, out]; 'depthwise': kernel [kh, kw, in, multiplier] */
  kind: 'conv' | 'depthwise';
  kernel: Float32Array;
  kernelShape: readonly number[];
  bias?: Float32Array;
  strides: readonly [number, number];
  dilations: readonly [number, number];
  padding: Padding;
  /** zero padding folded in from a preceding ZeroPadding2D / Pad: [top, bottom, left, right] */
  prePad?: readonly [number, number, number, number];
  groups?: number;
  /** per-output-channel affine map folded into the weights (a following batch norm): y = conv * scale + shift */
  affine?: { scale: Float32Array; shift: Float32Array };
}

/** ONNX Conv weight [out, in/group, kh, kw] and group for a TensorFlow kernel. */
export function onnxConvWeight(spec: Pick<ConvSpec, 'kind' | 'kernel' | 'kernelShape' | 'groups'>): { data: Float32Array; shape: number[]; group: number } {
  const [kh, kw, a, b] = spec.kernelShape;
  if (spec.kind === 'depthwise') {
    // [kh, kw, C, M] -> [C, M, kh, kw] = [C*M, 1, kh, kw]: output channel c*M + m, as TensorFlow orders them.
    const { data } = permute(spec.kernel, spec.kernelShape, [2, 3, 0, 1]);
    return { data, shape: [a * b, 1, kh, kw], group: a };
  }
  const { data, shape } = permute(spec.kernel, spec.kernelShape, [3, 2, 0, 1]);
  return { data, shape, group: spec.groups ?? 1 };
}

/** Batch norm in inference as y = x * scale + shift, per channel (float64 arithmetic, one float32 rounding). */
export function batchNormAffine(p: { gamma?: Float32Array; beta?: Float32Array; mean: Float32Array; variance: Float32Array; epsilon: number }): { scale: Float32Array; shift: Float32Array } {
  const n = p.mean.length;
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const s = (p.gamma ? p.gamma[c] : 1) / Math.sqrt(p.variance[c] + p.epsilon);
    scale[c] = s;
    shift[c] = (p.beta ? p.beta[c] : 0) - p.mean[c] * s;
  }
  return { scale, shift };
}

/**
 * Fold y = (w * x + b) * scale + shift into w' = w * scale (per output channel = leading axis of w, or the last
 * axis when `outAxisLast`, as in a Dense kernel [in, out]) and b' = b * scale + shift.
 */
export function foldAffine(w: Float32Array, outChannels: number, bias: Float32Array | undefined, scale: Float32Array, shift: Float32Array, outAxisLast = false): { w: Float32Array; b: Float32Array } {
  const out = new Float32Array(w.length);
  const per = w.length / outChannels;
  for (let i = 0; i < w.length; i++) {
    const c = outAxisLast ? i % outChannels : Math.floor(i / per);
    out[i] = w[i] * scale[c];
  }
  const b = new Float32Array(outChannels);
  for (let c = 0; c < outChannels; c++) b[c] = (bias ? bias[c] : 0) * scale[c] + shift[c];
  return { w: out, b };
}

/** ONNX pads [top, left, bottom, right] of a window over an NCHW tensor of spatial size [h, w]. */
export function windowPads(padding: Padding, size: readonly [number, number], kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number] = [1, 1]): number[] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const [t, b] = samePadding(size[0], kernel[0], strides[0], dilations[0]);
    const [l, r] = samePadding(size[1], kernel[1], strides[1], dilations[1]);
    return [t, l, b, r];
  }
  return [padding.top, padding.left, padding.bottom, padding.right];
}

/** A TensorFlow conv (or depthwise conv) of `x` as one ONNX Conv, with pre-padding and a batch norm folded in. */
export function emitConv(g: Graph, names: Names, layouts: Layouts, x: Value, spec: ConvSpec, name: string): Value {
  const input = layouts.nchw(x);
  const [, , h0, w0] = input.shape as number[];
  const pre = spec.prePad ?? [0, 0, 0, 0];
  const weight = onnxConvWeight(spec);
  const k: [number, number] = [weight.shape[2], weight.shape[3]];
  // SAME padding is computed on the pre-padded size, then both zero paddings add up.
  const same = windowPads(spec.padding, [h0 + pre[0] + pre[1], w0 + pre[2] + pre[3]], k, spec.strides, spec.dilations);
  const pads = [same[0] + pre[0], same[1] + pre[2], same[2] + pre[1], same[3] + pre[3]];
  let w = weight.data;
  let b = spec.bias;
  if (spec.affine) ({ w, b } = foldAffine(w, weight.shape[0], b, spec.affine.scale, spec.affine.shift));
  const wt = g.constant(w, weight.shape, names.fresh(`${name}/weight`));
  const bt = b ? g.constant(b, [b.length], names.fresh(`${name}/bias`)) : undefined;
  const t = g.conv(input, wt, bt, { strides: [...spec.strides], dilations: [...spec.dilations], pads, group: weight.group }, names.fresh(`${name}/conv`));
  return { t, nchw: true };
}

/** A Keras activation by name, or undefined when the converter has none for it. `softmaxAxis` is in stored order. */
export function applyActivation(g: Graph, names: Names, activation: string, t: Tensor, name: string, softmaxAxis = -1): Tensor | undefined {
  const n = (s: string) => names.fresh(`${name}/${s}`);
  switch (activation) {
    case 'linear':
    case 'identity':
      return t;
    case 'relu': return g.relu(t, n('relu'));
    case 'relu6': return g.clip(t, 0, 6, n('relu6'));
    case 'sigmoid': return g.sigmoid(t, n('sigmoid'));
    case 'tanh': return g.tanh(t, n('tanh'));
    case 'softplus': return g.softplus(t, n('softplus'));
    case 'softmax': return g.softmax(t, softmaxAxis, n('softmax'));
    case 'swish':
    case 'silu':
      return g.mul(t, g.sigmoid(t, n('sigmoid')), n('swish'));
    default:
      return undefined;
  }
}
