/** Shared helpers for the graph tests: run a training graph's gradients through ONNX, and finite differences. */
import { Graph } from '../../../src/ml/graph/ir.js';
import { buildTrainingGraph, stateNames, DEFAULT_ADAM } from '../../../src/ml/graph/optimizer.js';
import { evaluate, type RefTensor } from '../../../src/ml/graph/reference.js';
import { referenceGradients } from '../../../src/ml/graph/reference-grad.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import type { Feed } from '../../../src/ml/onnx/session.js';

export const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: 1 });

export function toFeeds(feeds: Record<string, RefTensor>): Record<string, Feed> {
  const out: Record<string, Feed> = {};
  for (const [k, v] of Object.entries(feeds)) out[k] = { data: v.data, dims: v.shape };
  return out;
}

/** dL/dparam for every param, computed by the ONNX training graph (lr 0, so nothing moves). */
export async function onnxGradients(g: Graph, loss: string, feeds: Record<string, RefTensor>): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const tg = buildTrainingGraph(g, loss, [], DEFAULT_ADAM, true);
  const session = await runtime.createSession(tg.onnx, 'grad-check');
  const f = toFeeds(feeds);
  for (const p of g.params) {
    f[p.name] = { data: p.init, dims: p.shape };
    f[stateNames.m(p.name)] = { data: new Float32Array(p.init.length), dims: p.shape };
    f[stateNames.v(p.name)] = { data: new Float32Array(p.init.length), dims: p.shape };
  }
  for (const s of [stateNames.lr, stateNames.c1, stateNames.c2]) f[s] = { data: Float32Array.of(s === stateNames.lr ? 0 : 1), dims: [] };
  const out = await session.run(f);
  await session.dispose();
  const grads = new Map<string, Float32Array>();
  for (const [p, name] of tg.gradients) grads.set(p, out[name].data);
  return { loss: out[loss].data[0], grads };
}

/** Reference forward + backward: loss and dL/dparam by name. */
export function referenceLossAndGrads(g: Graph, loss: string, feeds: Record<string, RefTensor>): { loss: number; grads: Map<string, Float32Array> } {
  const values = evaluate(g, feeds, [loss]);
  const grads = referenceGradients(g, values, loss, g.params.map((p) => p.id));
  const byName = new Map<string, Float32Array>();
  for (const p of g.params) byName.set(p.name, grads.get(p.id)!.data);
  return { loss: values.get(g.outputs.get(loss)!)!.data[0], grads: byName };
}

/** Central finite differences of the reference loss with respect to one param (all of its elements). */
export function finiteDifferences(g: Graph, loss: string, feeds: Record<string, RefTensor>, param: string, h: number): Float32Array {
  const p = g.params.find((q) => q.name === param)!;
  const out = new Float32Array(p.init.length);
  const lossAt = (data: Float32Array) => evaluate(g, feeds, [loss], new Map([[param, data]])).get(g.outputs.get(loss)!)!.data[0];
  for (let i = 0; i < out.length; i++) {
    const plus = Float32Array.from(p.init);
    const minus = Float32Array.from(p.init);
    plus[i] += h;
    minus[i] -= h;
    out[i] = (lossAt(plus) - lossAt(minus)) / (plus[i] - minus[i]);
  }
  return out;
}

/** max_i |a_i - b_i| / (atol + rtol |b_i|) <= 1 means close. Returns the worst ratio and where. */
export function closeness(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { worst: number; at: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const r = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(r <= worst)) {
      worst = r;
      at = i;
    }
  }
  return { worst, at };
}
