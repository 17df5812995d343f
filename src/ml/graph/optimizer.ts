/**
 * Derives the training graph of a model: forward, loss, backward and one Adam update in a single ONNX graph, so one
 * `session.run` performs one optimisation step. Weights and Adam moments are graph inputs and come back as outputs;
 * the caller feeds the outputs of run t as the inputs of run t+1.
 *
 * Glossary (Adam, Kingma & Ba 2015, with decoupled weight decay as in AdamW)
 *   g            dL/dw for a param w
 *   m, v         first and second moment estimates;  m' = b1 m + (1-b1) g,  v' = b2 v + (1-b2) g^2
 *   c1, c2       bias corrections 1/(1-b1^t) and 1/(1-b2^t) for step t = 1, 2, ...  (fed per run)
 *   lr           learning rate (fed per run)
 *   w'           w - lr * ( (m' c1) / (sqrt(v' c2) + eps) + wd * w )
 */
import { gradients } from './autodiff.js';
import { Graph, type Tensor } from './ir.js';
import { toOnnx } from './onnx.js';

export interface AdamConfig {
  /** learning rate (paper: 0.001) */
  readonly lr: number;
  /** decay of the first moment */
  readonly beta1: number;
  /** decay of the second moment */
  readonly beta2: number;
  /** added to sqrt(v-hat) to avoid division by zero */
  readonly eps: number;
  /** decoupled weight decay (0 disables it) */
  readonly weightDecay: number;
}

export const DEFAULT_ADAM: AdamConfig = Object.freeze({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });

/** Names used by the training graph for a param's state. */
export const stateNames = {
  param: (p: string) => p,
  m: (p: string) => `adam.m.${p}`,
  v: (p: string) => `adam.v.${p}`,
  next: (name: string) => `${name}.next`,
  lr: 'adam.lr',
  c1: 'adam.c1',
  c2: 'adam.c2',
} as const;

export interface TrainingGraph {
  /** The ONNX bytes of the training step. */
  onnx: Uint8Array;
  /** Output names that are metrics (the loss first). */
  metrics: string[];
  /** Param names, in order; each has inputs param/m/v and outputs `.next` of each. */
  params: string[];
  /** The graph with gradients and update nodes (for inspection and tests). */
  graph: Graph;
  /** Gradient output names (only when `exposeGradients`). */
  gradients: Map<string, string>;
}

/** Per-run scalars for step t (1-based). */
export function adamScalars(cfg: AdamConfig, t: number, lr = cfg.lr): { lr: number; c1: number; c2: number } {
  return { lr, c1: 1 / (1 - cfg.beta1 ** t), c2: 1 / (1 - cfg.beta2 ** t) };
}

/**
 * Build the training step for `model` minimising output `loss`; `metrics` are further outputs returned per step.
 * `exposeGradients` adds `grad.<param>` outputs (for tests).
 */
export function buildTrainingGraph(
  model: Graph,
  loss: string,
  metrics: readonly string[],
  cfg: AdamConfig = DEFAULT_ADAM,
  exposeGradients = false,
): TrainingGraph {
  const g = model.clone();
  const lossId = g.outputs.get(loss);
  if (lossId === undefined) throw new Error(`model has no output "${loss}"`);
  const params = g.params.map((p) => g.tensor(p.id));
  const grads = gradients(g, g.tensor(lossId), params);
  const lr = g.input(stateNames.lr, []);
  const c1 = g.input(stateNames.c1, []);
  const c2 = g.input(stateNames.c2, []);
  const outputs = [loss, ...metrics.filter((m) => m !== loss)];
  const gradOutputs = new Map<string, string>();
  for (const w of params) {
    const gw = grads.get(w.id)!;
    const shape = w.shape;
    const m = g.input(stateNames.m(w.name), shape);
    const v = g.input(stateNames.v(w.name), shape);
    const m2 = g.add(g.mul(m, cfg.beta1), g.mul(gw, 1 - cfg.beta1), stateNames.next(m.name));
    const v2 = g.add(g.mul(v, cfg.beta2), g.mul(g.mul(gw, gw), 1 - cfg.beta2), stateNames.next(v.name));
    let step: Tensor = g.div(g.mul(m2, c1), g.add(g.sqrt(g.mul(v2, c2)), cfg.eps));
    if (cfg.weightDecay > 0) step = g.add(step, g.mul(w, cfg.weightDecay));
    const w2 = g.sub(w, g.mul(step, lr), stateNames.next(w.name));
    for (const t of [w2, m2, v2]) {
      g.output(t.name, t);
      outputs.push(t.name);
    }
    if (exposeGradients) {
      const name = `grad.${w.name}`;
      g.output(name, g.identity(gw, name));
      outputs.push(name);
      gradOutputs.set(w.name, name);
    }
  }
  const onnx = toOnnx(g, { outputs, params: 'inputs', graphName: 'train_step' });
  return { onnx, metrics: outputs.slice(0, 1 + metrics.filter((m) => m !== loss).length), params: params.map((p) => p.name), graph: g, gradients: gradOutputs };
}
