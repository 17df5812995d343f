/**
 * The one owner of onnxruntime-node sessions. Everything that runs an ONNX model (training steps, evaluation, served
 * model versions) asks an OnnxRuntime for a Session.
 *
 * - Execution provider: 'cpu', 'cuda', or 'auto' (try CUDA, fall back to CPU with one log line). The npm package ships
 *   only the CPU provider; on a GPU machine with internet, install the CUDA 12 provider with
 *   `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install` (or reinstall the package with that
 *   variable set and its install script allowed).
 * - Threads: intra-op and inter-op thread counts per session, from the constructor (this module never reads process.env).
 * - Model versions: `load(key, source)` loads each key once and shares the pending load; a failed load is forgotten so
 *   a later call retries it. The lifecycle of a key is a discriminated union (loading / ready).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import './telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { readOnnxMetadata } from '../graph/onnx.js';
import { localBackend, Session, type ProviderName, type SessionBackend } from './session.js';
import { SessionThread, ThreadExited } from './session-thread.js';

export type ProviderChoice = 'cpu' | 'cuda' | 'auto';

export interface RuntimeOptions {
  /** execution provider; 'auto' tries CUDA first */
  readonly provider: ProviderChoice;
  /** threads inside one op (ORT intraOpNumThreads); 0 lets onnxruntime choose */
  readonly intraOpThreads: number;
  /** threads across independent ops (ORT interOpNumThreads) */
  readonly interOpThreads: number;
  /** let idle intra-op threads spin-wait for work (faster on a dedicated machine; false is kinder to a shared one) */
  readonly spinning: boolean;
  /** where the provider fallback line (and nothing else) is written */
  readonly log: (line: string) => void;
  /**
   * Run sessions on a worker thread of their own (session-thread.ts), off the caller's event loop, for runs of at least
   * `threadMinRows` rows (the leading dim of the first feed); smaller runs stay in the calling thread, where they cost
   * less than the round trip. Each session is then loaded in both places.
   */
  readonly thread: boolean;
  readonly threadMinRows: number;
}

export const DEFAULT_RUNTIME_OPTIONS: RuntimeOptions = Object.freeze({
  provider: 'cpu',
  intraOpThreads: 0,
  interOpThreads: 1,
  spinning: true,
  log: (line: string) => process.stderr.write(`${line}\n`),
  thread: false,
  threadMinRows: 1,
});

export type ModelSource = Uint8Array | string | (() => Promise<Uint8Array>);

export type ModelState =
  | { status: 'loading'; promise: Promise<Session> }
  | { status: 'ready'; session: Session };

export const CUDA_INSTALL_HINT =
  'the CUDA execution provider is not installed; on a GPU machine with internet run ' +
  '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install`';

/**
 * Whether the CUDA provider library sits beside onnxruntime-node's native binding (where its installer puts it).
 * Checking first avoids onnxruntime's own multi-line load error on machines without it; undefined = cannot tell.
 */
export function cudaProviderInstalled(): boolean | undefined {
  if (process.platform !== 'linux' && process.platform !== 'win32') return false;
  try {
    const require = createRequire(import.meta.url);
    const binding = require.resolve(`onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`);
    const lib = process.platform === 'linux' ? 'libonnxruntime_providers_cuda.so' : 'onnxruntime_providers_cuda.dll';
    return existsSync(join(dirname(binding), lib));
  } catch {
    return undefined;
  }
}

/**
 * Runs of at least `minRows` rows on `there` (the session thread), smaller ones on `here`; if the thread has exited,
 * every run on `here`, so serving goes on without it.
 */
function splitBackend(here: SessionBackend, there: SessionBackend, minRows: number): SessionBackend {
  let threadGone = false;
  return {
    inputMetadata: here.inputMetadata,
    outputMetadata: here.outputMetadata,
    async run(feeds, outputs) {
      if (threadGone || (Object.values(feeds)[0]?.dims[0] ?? 1) < minRows) return here.run(feeds, outputs);
      try {
        return await there.run(feeds, outputs);
      } catch (err) {
        if (!(err instanceof ThreadExited)) throw err;
        threadGone = true;
        return here.run(feeds, outputs);
      }
    },
    release: async () => void (await Promise.all([here.release(), there.release()])),
  };
}

/** Both sessions, or the first failure with the other one released (a CUDA session left open would hold GPU memory). */
async function bothOrNeither(a: Promise<SessionBackend>, b: Promise<SessionBackend>): Promise<[SessionBackend, SessionBackend]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'fulfilled' && y.status === 'fulfilled') return [x.value, y.value];
  for (const r of [x, y]) if (r.status === 'fulfilled') await r.value.release();
  throw (x.status === 'rejected' ? x : (y as PromiseRejectedResult)).reason;
}

export class OnnxRuntime {
  readonly options: RuntimeOptions;
  private readonly models = new Map<string, ModelState>();
  /** Provider resolved by the first 'auto' session (so the fallback is logged once). */
  private resolved: ProviderName | undefined;
  private thread: SessionThread | undefined;

  constructor(options: Partial<RuntimeOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_RUNTIME_OPTIONS, ...options });
    if (!['cpu', 'cuda', 'auto'].includes(this.options.provider)) throw new Error(`unknown provider "${this.options.provider}"`);
    if (this.options.provider === 'cpu') this.resolved = 'cpu';
  }

  /** Providers the installed onnxruntime-node reports, e.g. [{ name: 'cuda', bundled: false }]. */
  static supportedBackends(): { name: string; bundled: boolean }[] {
    return ort.listSupportedBackends();
  }

  private sessionOptions(provider: ProviderName): ort.InferenceSession.SessionOptions {
    const o: ort.InferenceSession.SessionOptions = {
      executionProviders: provider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
      logSeverityLevel: 3,
      interOpNumThreads: this.options.interOpThreads,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    if (this.options.intraOpThreads > 0) o.intraOpNumThreads = this.options.intraOpThreads;
    if (!this.options.spinning) o.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
    return o;
  }

  /** An onnxruntime session on the chosen provider, in this thread or on the session thread. */
  private open(bytes: Uint8Array, provider: ProviderName): Promise<SessionBackend> {
    const options = this.sessionOptions(provider);
    const local = () => ort.InferenceSession.create(bytes, options).then(localBackend);
    if (!this.options.thread) return local();
    const remote = (this.thread ??= new SessionThread()).open(bytes, options);
    const min = this.options.threadMinRows;
    return min <= 1 ? remote : bothOrNeither(local(), remote).then(([here, there]) => splitBackend(here, there, min));
  }

  /** A new, uncached session (training and evaluation graphs); `label` names it in errors. */
  async createSession(model: Uint8Array | string, label = 'model'): Promise<Session> {
    const bytes = typeof model === 'string' ? new Uint8Array(await readFile(model)) : model;
    const metadata = readOnnxMetadata(bytes);
    const want: ProviderName = this.resolved ?? (this.options.provider === 'cuda' || this.options.provider === 'auto' ? 'cuda' : 'cpu');
    if (want === 'cuda' && cudaProviderInstalled() === false) {
      if (this.options.provider === 'cuda') throw new Error(`${label}: cannot use provider cuda: ${CUDA_INSTALL_HINT}`);
      this.resolved = 'cpu';
      this.options.log(`onnx runtime: provider auto -> cpu (${CUDA_INSTALL_HINT})`);
    } else if (want === 'cuda') {
      try {
        const inner = await this.open(bytes, 'cuda');
        this.resolved = 'cuda';
        return new Session(inner, label, 'cuda', metadata);
      } catch (e) {
        if (this.options.provider === 'cuda') throw new Error(`${label}: cannot use provider cuda (${(e as Error).message.split('\n')[0]}); ${CUDA_INSTALL_HINT}`);
        this.resolved = 'cpu';
        this.options.log(`onnx runtime: provider auto -> cpu (${CUDA_INSTALL_HINT})`);
      }
    }
    const inner = await this.open(bytes, 'cpu');
    return new Session(inner, label, 'cpu', metadata);
  }

  /** Load model version `key` once; concurrent callers share the load; a failed load is forgotten (retry by calling again). */
  load(key: string, source: ModelSource): Promise<Session> {
    const state = this.models.get(key);
    if (state) return state.status === 'ready' ? Promise.resolve(state.session) : state.promise;
    const promise = (async () => {
      const bytes = typeof source === 'function' ? await source() : source;
      return this.createSession(bytes, key);
    })();
    this.models.set(key, { status: 'loading', promise });
    promise.then(
      (session) => {
        if (this.models.get(key)?.status === 'loading') this.models.set(key, { status: 'ready', session });
      },
      () => {
        if (this.models.get(key)?.status === 'loading') this.models.delete(key);
      },
    );
    return promise;
  }

  /** The state of a key, or undefined if it was never loaded (or its load failed). */
  state(key: string): ModelState | undefined {
    return this.models.get(key);
  }

  /** Runs its sessions completed on the session thread (options.thread), for tests and diagnostics. */
  get threadRuns(): number {
    return this.thread?.runs ?? 0;
  }

  /** A ready session, or undefined. */
  get(key: string): Session | undefined {
    const s = this.models.get(key);
    return s?.status === 'ready' ? s.session : undefined;
  }

  async unload(key: string): Promise<void> {
    const s = this.models.get(key);
    this.models.delete(key);
    if (!s) return;
    switch (s.status) {
      case 'ready':
        await s.session.dispose();
        return;
      case 'loading':
        await s.promise.then((x) => x.dispose(), () => undefined);
        return;
      default: {
        const never: never = s;
        throw new Error(`unreachable state ${JSON.stringify(never)}`);
      }
    }
  }

  async dispose(): Promise<void> {
    for (const key of [...this.models.keys()]) await this.unload(key);
    await this.thread?.close();
    this.thread = undefined;
  }
}
