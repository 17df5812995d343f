/**
 * Reverse-mode differentiation over the IR: appends gradient nodes to a graph.
 *
 * Glossary
 *   y = op(x_0, x_1, ...)   the forward node;  gy = dL/dy (same shape as y);  gx_k = dL/dx_k
 *   unbroadcast             a gradient for an operand that numpy-broadcast to y's shape is summed over the broadcast axes
 *   requires-grad           a value that depends on one of the `wrt` values; only those get gradients (so the batch
 *                           features, which are inputs, never get a gradient computed)
 *
 * Rules (gy elementwise products unless stated):
 *   add: gy | sub: gy, -gy | mul: gy*b, gy*a | div: gy/b, -gy*y/b | neg: -gy
 *   matmul a@b: gy@b^T, a^T@gy | linear x@w+b: gy@w^T, x^T@gy, sum_rows(gy)
 *   relu: gy*sign(y) | sigmoid: gy*y*(1-y) | tanh: gy*(1-y^2) | exp: gy*y | log: gy/x | sqrt: gy*0.5/y
 *   pow p: gy*p*x^(p-1) | softplus: gy*sigmoid(x) | abs: gy*sign(x) | identity: gy
 *   concat: the slice of gy that x_k occupied | reduceSum: gy expanded back | reduceMean: that, times |y|/|x|
 */
import { Graph, Tensor, type Node } from './ir.js';
import { unbroadcastAxes } from './shape.js';

/** Sum `grad` (shaped like the op output) back to `like`'s shape. */
function unbroadcast(g: Graph, grad: Tensor, like: Tensor): Tensor {
  const { leading, kept } = unbroadcastAxes(like.shape, grad.shape);
  let r = grad;
  if (leading.length) r = g.reduceSum(r, leading, false);
  if (kept.length) r = g.reduceSum(r, kept, true);
  return r;
}

/** The gradient flowing to input k of `node`, given gy. */
function inputGradient(g: Graph, node: Node, gy: Tensor, k: number): Tensor {
  const x = node.inputs.map((id) => g.tensor(id));
  const y = g.tensor(node.output);
  switch (node.op) {
    case 'add':
      return unbroadcast(g, gy, x[k]);
    case 'sub':
      return unbroadcast(g, k === 0 ? gy : g.neg(gy), x[k]);
    case 'mul':
      return unbroadcast(g, g.mul(gy, x[1 - k]), x[k]);
    case 'div':
      return k === 0 ? unbroadcast(g, g.div(gy, x[1]), x[0]) : unbroadcast(g, g.neg(g.div(g.mul(gy, y), x[1])), x[1]);
    case 'neg':
      return g.neg(gy);
    case 'identity':
      return gy;
    case 'matmul':
      return k === 0 ? g.gemm(gy, x[1], false, true) : g.gemm(x[0], gy, true, false);
    case 'linear':
      if (k === 0) return g.gemm(gy, x[1], false, true);
      if (k === 1) return g.gemm(x[0], gy, true, false);
      return g.reduceSum(gy, [0], false);
    case 'relu':
      return g.mul(gy, g.sign(y));
    case 'sigmoid':
      return g.mul(gy, g.mul(y, g.sub(1, y)));
    case 'tanh':
      return g.mul(gy, g.sub(1, g.mul(y, y)));
    case 'exp':
      return g.mul(gy, y);
    case 'log':
      return g.div(gy, x[0]);
    case 'sqrt':
      return g.div(g.mul(gy, 0.5), y);
    case 'pow': {
      const p = node.attrs.exponent!;
      if (p === 1) return gy;
      const dydx = p === 2 ? g.mul(x[0], 2) : g.mul(g.pow(x[0], p - 1), p);
      return g.mul(gy, dydx);
    }
    case 'softplus':
      return g.mul(gy, g.sigmoid(x[0]));
    case 'abs':
      return g.mul(gy, g.sign(x[0]));
    case 'concat': {
      const axis = node.attrs.axis!;
      let start = 0;
      for (let i = 0; i < k; i++) start += x[i].shape[axis] as number;
      return g.slice(gy, axis, start, start + (x[k].shape[axis] as number));
    }
    case 'reduceSum':
    case 'reduceMean': {
      const r = node.attrs.keepdims ? gy : g.unsqueeze(gy, node.attrs.axes!);
      const expanded = g.expandAs(r, x[0]);
      return node.op === 'reduceSum' ? expanded : g.countRatio(expanded, x[0], y);
    }
    default:
      throw new Error(`no gradient rule for helper op "${node.op}"`);
  }
}

/**
 * Append dL/dw for each w in `wrt` to `g` (which must own `loss`, a scalar). Returns value id -> gradient tensor;
 * a w that the loss does not depend on gets an explicit zero gradient.
 */
export function gradients(g: Graph, loss: Tensor, wrt: readonly Tensor[]): Map<number, Tensor> {
  if (loss.shape.length !== 0) throw new Error(`loss must be a scalar, got shape [${loss.shape.join(', ')}]`);
  const order = g.needed([loss.id]);
  const requires = new Set<number>(wrt.map((t) => t.id));
  for (const i of order) {
    const n = g.nodes[i];
    if (n.inputs.some((v) => requires.has(v))) requires.add(n.output);
  }
  const grads = new Map<number, Tensor>([[loss.id, g.scalar(1)]]);
  for (let j = order.length - 1; j >= 0; j--) {
    const node = g.nodes[order[j]];
    const gy = grads.get(node.output);
    if (!gy) continue;
    node.inputs.forEach((v, k) => {
      if (!requires.has(v)) return;
      const gx = inputGradient(g, node, gy, k);
      const prev = grads.get(v);
      grads.set(v, prev ? g.add(prev, gx) : gx);
    });
  }
  const out = new Map<number, Tensor>();
  for (const w of wrt) {
    const gw = grads.get(w.id);
    out.set(w.id, gw ?? g.mul(w, 0));
  }
  return out;
}
