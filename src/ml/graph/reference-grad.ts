/**
 * Reference backward pass and Adam step on Float32Arrays: an implementation of the gradient rules independent of the
 * symbolic ones in autodiff.ts (these compute numbers directly), used to check the ONNX training graph.
 *
 * Glossary
 *   y = op(x...), gy = dL/dy, gx = dL/dx (summed back over broadcast axes with sumTo)
 *   Adam: see optimizer.ts (same update, same order of operations)
 */
import type { Graph } from './ir.js';
import type { AdamConfig } from './optimizer.js';
import {
  binary,
  broadcastTo,
  concatRef,
  matmulRef,
  sigmoidRef,
  size,
  sumTo,
  type RefTensor,
} from './reference.js';

function mulElem(a: RefTensor, b: RefTensor): RefTensor {
  return binary(a, b, (p, q) => p * q);
}

function mapWith(gy: RefTensor, t: RefTensor, f: (g: number, v: number) => number): RefTensor {
  return binary(gy, t, f);
}

/** dL/dx_k for one node. */
function vjp(g: Graph, nodeIdx: number, x: RefTensor[], y: RefTensor, gy: RefTensor, k: number): RefTensor {
  const n = g.nodes[nodeIdx];
  switch (n.op) {
    case 'add': return sumTo(gy, x[k].shape);
    case 'sub': return sumTo(k === 0 ? gy : mapWith(gy, gy, (a) => -a), x[k].shape);
    case 'mul': return sumTo(mulElem(gy, x[1 - k]), x[k].shape);
    case 'div':
      if (k === 0) return sumTo(binary(gy, x[1], (a, b) => a / b), x[0].shape);
      // d(a/b)/db = -a/b^2
      return sumTo(binary(binary(gy, x[0], (q, a) => -q * a), binary(x[1], x[1], (b) => b * b), (p, b2) => p / b2), x[1].shape);
    case 'neg': return mapWith(gy, gy, (a) => -a);
    case 'identity': return gy;
    case 'matmul':
      return k === 0 ? matmulRef(gy, x[1], false, true) : matmulRef(x[0], gy, true, false);
    case 'linear':
      if (k === 0) return matmulRef(gy, x[1], false, true);
      if (k === 1) return matmulRef(x[0], gy, true, false);
      return sumTo(gy, x[2].shape);
    case 'relu': return mapWith(gy, x[0], (q, v) => (v > 0 ? q : 0));
    case 'sigmoid': return mapWith(gy, x[0], (q, v) => { const s = sigmoidRef(v); return q * s * (1 - s); });
    case 'tanh': return mapWith(gy, x[0], (q, v) => { const t = Math.tanh(v); return q * (1 - t * t); });
    case 'exp': return mapWith(gy, x[0], (q, v) => q * Math.exp(v));
    case 'log': return mapWith(gy, x[0], (q, v) => q / v);
    case 'sqrt': return mapWith(gy, x[0], (q, v) => q / (2 * Math.sqrt(v)));
    case 'pow': { const p = n.attrs.exponent!; return mapWith(gy, x[0], (q, v) => q * p * v ** (p - 1)); }
    case 'softplus': return mapWith(gy, x[0], (q, v) => q * sigmoidRef(v));
    case 'abs': return mapWith(gy, x[0], (q, v) => q * Math.sign(v));
    case 'concat': {
      const axis = n.attrs.axis!;
      const before = x.slice(0, k).reduce((s, t) => s + t.shape[axis], 0);
      const outer = size(gy.shape.slice(0, axis));
      const inner = size(gy.shape.slice(axis + 1));
      const rowLen = gy.shape[axis] * inner;
      const len = x[k].shape[axis] * inner;
      const data = new Float32Array(size(x[k].shape));
      for (let r = 0; r < outer; r++) data.set(gy.data.subarray(r * rowLen + before * inner, r * rowLen + before * inner + len), r * len);
      return { data, shape: [...x[k].shape] };
    }
    case 'reduceSum':
    case 'reduceMean': {
      const axes = n.attrs.axes!;
      const kept = x[0].shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const full = broadcastTo({ data: gy.data, shape: kept }, x[0].shape);
      if (n.op === 'reduceSum') return full;
      const scale = size(kept) / size(x[0].shape);
      return { data: full.data.map((v) => v * scale), shape: full.shape };
    }
    default:
      throw new Error(`reference has no gradient for "${n.op}" (output ${y.shape})`);
  }
}

/**
 * Gradients of the scalar output `loss` (evaluated into `values` by reference.evaluate) with respect to the values
 * in `wrt` (param or input ids). Values the loss does not depend on get zeros.
 */
export function referenceGradients(g: Graph, values: ReadonlyMap<number, RefTensor>, loss: string, wrt: readonly number[]): Map<number, RefTensor> {
  const lossId = g.outputs.get(loss);
  if (lossId === undefined) throw new Error(`graph has no output "${loss}"`);
  const order = g.needed([lossId]);
  const grads = new Map<number, RefTensor>([[lossId, { data: Float32Array.of(1), shape: [] }]]);
  for (let j = order.length - 1; j >= 0; j--) {
    const n = g.nodes[order[j]];
    const gy = grads.get(n.output);
    if (!gy) continue;
    const x = n.inputs.map((id) => values.get(id)!);
    const y = values.get(n.output)!;
    n.inputs.forEach((id, k) => {
      const kind = g.values[id].kind;
      if (kind === 'const') return;
      const gx = vjp(g, order[j], x, y, gy, k);
      const prev = grads.get(id);
      grads.set(id, prev ? binary(prev, gx, (a, b) => a + b) : gx);
    });
  }
  const out = new Map<number, RefTensor>();
  for (const id of wrt) {
    const v = values.get(id);
    if (!v) throw new Error(`no value for "${g.values[id].name}"`);
    out.set(id, grads.get(id) ?? { data: new Float32Array(v.data.length), shape: [...v.shape] });
  }
  return out;
}

/** One Adam step in place on (w, m, v) for step t (1-based); mirrors optimizer.ts exactly. */
export function referenceAdamStep(w: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, cfg: AdamConfig, t: number, lr = cfg.lr): void {
  const c1 = Math.fround(1 / (1 - cfg.beta1 ** t));
  const c2 = Math.fround(1 / (1 - cfg.beta2 ** t));
  for (let i = 0; i < w.length; i++) {
    const gi = grad[i];
    m[i] = cfg.beta1 * m[i] + (1 - cfg.beta1) * gi;
    v[i] = cfg.beta2 * v[i] + (1 - cfg.beta2) * gi * gi;
    let step = (m[i] * c1) / (Math.sqrt(v[i] * c2) + cfg.eps);
    if (cfg.weightDecay > 0) step += cfg.weightDecay * w[i];
    w[i] = w[i] - lr * step;
  }
}
