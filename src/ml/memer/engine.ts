/**
 * The ONNX training engine for one MEMER graph: one `session.run` per mini-batch does forward, loss, backward and the
 * Adam update; weights and Adam moments stay as the run's outputs and are fed back as the next run's inputs.
 * A second session, derived from the same graph, evaluates losses and scores with the current weights (no update).
 *
 * Glossary
 *   state    param w, Adam m and v per param (graph inputs `w`, `adam.m.w`, `adam.v.w`; outputs with `.next`)
 *   t        Adam step count (1-based), giving the bias-correction scalars c1, c2
 */
import { adamScalars, buildTrainingGraph, stateNames, type AdamConfig } from '../graph/optimizer.js';
import { toOnnx } from '../graph/onnx.js';
import type { OnnxRuntime } from '../onnx/runtime.js';
import type { Feed, Feeds, Session } from '../onnx/session.js';
import { LOSS_METRICS, OUTPUT, type MemerGraph } from './model.js';

export interface StepMetrics {
  loss: number;
  l_w: number;
  l_recon: number;
  l_rec: number;
}

export interface EvalOutput extends StepMetrics {
  /** S = p_rec . v_user per sample */
  score: Float32Array;
}

const EVAL_OUTPUTS = [OUTPUT.loss, ...LOSS_METRICS, OUTPUT.score];

export class TrainingEngine {
  private state = new Map<string, Feed>();
  private stepCount = 0;
  private checked = false;

  private constructor(
    readonly model: MemerGraph,
    readonly adam: AdamConfig,
    private readonly trainSession: Session,
    private readonly evalSession: Session,
    readonly paramNames: string[],
  ) {
    for (const p of model.graph.params) {
      this.state.set(stateNames.param(p.name), { data: Float32Array.from(p.init), dims: p.shape });
      this.state.set(stateNames.m(p.name), { data: new Float32Array(p.init.length), dims: p.shape });
      this.state.set(stateNames.v(p.name), { data: new Float32Array(p.init.length), dims: p.shape });
    }
  }

  static async create(runtime: OnnxRuntime, model: MemerGraph, adam: AdamConfig): Promise<TrainingEngine> {
    const tg = buildTrainingGraph(model.graph, OUTPUT.loss, [...LOSS_METRICS], adam);
    const evalBytes = toOnnx(model.graph, { outputs: EVAL_OUTPUTS, params: 'inputs', graphName: 'memer_eval' });
    const [train, evaluate] = await Promise.all([runtime.createSession(tg.onnx, 'memer-train-step'), runtime.createSession(evalBytes, 'memer-eval')]);
    return new TrainingEngine(model, adam, train, evaluate, tg.params);
  }

  get steps(): number {
    return this.stepCount;
  }

  /** One optimisation step on a batch (data feeds as produced by BatchAssembler). */
  async step(batch: Feeds, lr = this.adam.lr): Promise<StepMetrics> {
    const t = this.stepCount + 1;
    const s = adamScalars(this.adam, t, lr);
    const feeds: Record<string, Feed> = { ...batch };
    for (const [k, v] of this.state) feeds[k] = v;
    feeds[stateNames.lr] = { data: Float32Array.of(s.lr), dims: [] };
    feeds[stateNames.c1] = { data: Float32Array.of(s.c1), dims: [] };
    feeds[stateNames.c2] = { data: Float32Array.of(s.c2), dims: [] };
    if (!this.checked) {
      this.trainSession.check(feeds);
      this.checked = true;
    }
    const out = await this.trainSession.runUnchecked(feeds);
    for (const k of this.state.keys()) this.state.set(k, out[stateNames.next(k)]);
    this.stepCount = t;
    return { loss: out[OUTPUT.loss].data[0], l_w: out[OUTPUT.wasserstein].data[0], l_recon: out[OUTPUT.reconstruction].data[0], l_rec: out[OUTPUT.recommendation].data[0] };
  }

  /** Losses and scores for a batch with the current weights (no update). Noise inputs, if any, should be zeros. */
  async evaluate(batch: Feeds): Promise<EvalOutput> {
    const feeds: Record<string, Feed> = {};
    for (const name of this.evalSession.inputNames) {
      const f = batch[name] ?? this.state.get(name);
      if (!f) throw new Error(`evaluation needs input "${name}"`);
      feeds[name] = f;
    }
    const out = await this.evalSession.run(feeds);
    return {
      loss: out[OUTPUT.loss].data[0],
      l_w: out[OUTPUT.wasserstein].data[0],
      l_recon: out[OUTPUT.reconstruction].data[0],
      l_rec: out[OUTPUT.recommendation].data[0],
      score: out[OUTPUT.score].data,
    };
  }

  /** A copy of the current weights by param name. */
  weights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const name of this.paramNames) out.set(name, Float32Array.from(this.state.get(stateNames.param(name))!.data));
    return out;
  }

  /** Replace some params' values (copies; Adam moments untouched). */
  setWeights(weights: ReadonlyMap<string, Float32Array>): void {
    for (const [name, w] of weights) {
      const cur = this.state.get(stateNames.param(name));
      if (!cur) throw new Error(`no param "${name}"`);
      if (cur.data.length !== w.length) throw new Error(`param ${name}: ${w.length} values, expected ${cur.data.length}`);
      this.state.set(stateNames.param(name), { data: Float32Array.from(w), dims: cur.dims });
    }
  }

  /** Adam moments (copies), for tests. */
  moments(name: string): { m: Float32Array; v: Float32Array } {
    return { m: Float32Array.from(this.state.get(stateNames.m(name))!.data), v: Float32Array.from(this.state.get(stateNames.v(name))!.data) };
  }

  async dispose(): Promise<void> {
    await this.trainSession.dispose();
    await this.evalSession.dispose();
  }
}
