/**
 * A checked wrapper around one onnxruntime-node InferenceSession. Created only by OnnxRuntime (runtime.ts).
 * Feeds are plain { data, dims } pairs; every run first checks names, dtypes and dims against the session's own
 * input metadata, and a failure reports shapes (never data).
 */
import './telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { matchShape, type Dim } from '../graph/shape.js';
import { observed, reportRun } from './observer.js';

export interface Feed {
  data: Float32Array;
  dims: readonly number[];
}

export type Feeds = Readonly<Record<string, Feed>>;

export interface IoSpec {
  name: string;
  shape: Dim[];
}

export type ProviderName = 'cpu' | 'cuda';

/** What a Session runs on: an onnxruntime session in this thread (`localBackend`) or on a session thread. */
export interface SessionBackend {
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  /** The requested outputs (default: all). */
  run(feeds: Feeds, outputs?: readonly string[]): Promise<Record<string, Feed>>;
  release(): Promise<void>;
}

/** An onnxruntime session run in the calling thread. */
export function localBackend(inner: ort.InferenceSession): SessionBackend {
  return {
    inputMetadata: inner.inputMetadata,
    outputMetadata: inner.outputMetadata,
    async run(feeds, outputs) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) tensors[k] = new ort.Tensor('float32', v.data, v.dims as number[]);
      const result = outputs ? await inner.run(tensors, outputs as string[]) : await inner.run(tensors);
      const out: Record<string, Feed> = {};
      for (const [k, t] of Object.entries(result)) out[k] = { data: t.data as Float32Array, dims: t.dims };
      return out;
    },
    release: () => inner.release(),
  };
}

/** An input that does not fit the model; `code` tells callers what kind of problem it is. */
export class ModelInputError extends Error {
  constructor(
    message: string,
    readonly code: 'MISSING_INPUT' | 'UNKNOWN_INPUT' | 'BAD_SHAPE' | 'BAD_DTYPE',
  ) {
    super(message);
    this.name = 'ModelInputError';
  }
}

function describe(feeds: Feeds): string {
  return Object.entries(feeds)
    .map(([k, v]) => `${k} [${v.dims.join(', ')}]`)
    .join(', ');
}

export class Session {
  readonly inputs: IoSpec[];
  readonly outputs: IoSpec[];
  private readonly inputByName: Map<string, IoSpec>;

  constructor(
    private readonly inner: SessionBackend,
    readonly label: string,
    readonly provider: ProviderName,
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    const spec = (m: ort.InferenceSession.ValueMetadata): IoSpec => {
      if (!m.isTensor || m.type !== 'float32') throw new Error(`${label}: ${m.name} is not a float32 tensor`);
      return { name: m.name, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) };
    };
    this.inputs = inner.inputMetadata.map(spec);
    this.outputs = inner.outputMetadata.map(spec);
    this.inputByName = new Map(this.inputs.map((s) => [s.name, s]));
  }

  get inputNames(): string[] {
    return this.inputs.map((s) => s.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((s) => s.name);
  }

  /** Throws ModelInputError unless `feeds` has exactly this model's inputs, as float32 with matching dims. */
  check(feeds: Feeds): void {
    const bound = new Map<string, number>();
    for (const spec of this.inputs) {
      const f = feeds[spec.name];
      if (!f) throw new ModelInputError(`${this.label}: missing input "${spec.name}" [${spec.shape.join(', ')}]; got ${describe(feeds)}`, 'MISSING_INPUT');
      if (!(f.data instanceof Float32Array)) throw new ModelInputError(`${this.label}: input "${spec.name}" must be a Float32Array`, 'BAD_DTYPE');
      const err = matchShape(spec.shape, f.dims, bound);
      if (err) throw new ModelInputError(`${this.label}: input "${spec.name}" ${err} (model expects [${spec.shape.join(', ')}]; got ${describe(feeds)})`, 'BAD_SHAPE');
      const n = f.dims.reduce((a, b) => a * b, 1);
      if (n !== f.data.length) throw new ModelInputError(`${this.label}: input "${spec.name}" has ${f.data.length} values for dims [${f.dims.join(', ')}]`, 'BAD_SHAPE');
    }
    for (const k of Object.keys(feeds)) {
      if (!this.inputByName.has(k)) throw new ModelInputError(`${this.label}: unknown input "${k}"; inputs are ${this.inputNames.join(', ')}`, 'UNKNOWN_INPUT');
    }
  }

  /** Check, then run; returns the requested outputs (default: all). */
  async run(feeds: Feeds, outputs?: readonly string[]): Promise<Record<string, Feed>> {
    this.check(feeds);
    return this.runUnchecked(feeds, outputs);
  }

  /** Run without the input check, for hot loops whose feeds were checked once (the training loop). */
  async runUnchecked(feeds: Feeds, outputs?: readonly string[]): Promise<Record<string, Feed>> {
    // Timed only when an observer listens (observer.ts): a performance.now() pair, nothing per row.
    const t0 = observed() ? performance.now() : -1;
    let ok = false;
    try {
      const out = await this.inner.run(feeds, outputs);
      ok = true;
      return out;
    } catch (e) {
      throw new Error(`${this.label}: run failed with inputs ${describe(feeds)}: ${(e as Error).message}`);
    } finally {
      if (t0 >= 0) {
        let rows = 1;
        for (const k in feeds) {
          rows = feeds[k].dims[0] ?? 1;
          break;
        }
        reportRun((performance.now() - t0) / 1000, { session: this, rows, ok });
      }
    }
  }

  async dispose(): Promise<void> {
    await this.inner.release();
  }
}
