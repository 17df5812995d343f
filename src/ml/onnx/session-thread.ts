/**
 * onnxruntime sessions on a worker thread of their own (`OnnxRuntime({ thread: true })`): a run's compute leaves the
 * event loop, which meanwhile serves other requests. For sessions whose feeds are small next to their compute (MEMER
 * models: a group of uploads' features in, a few 32-d vectors out); feeds and outputs are copied between threads, so
 * a session fed a large matrix per run (exact search over the catalogue) stays in the calling thread.
 *
 * The worker is referenced only while calls are pending, so an idle one never keeps a process alive. If it exits,
 * pending calls fail with ThreadExited, and so does every later run of the sessions it held (a split session then runs
 * in the calling thread, see runtime.ts); the next `open` starts a new worker.
 */
import type { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { spawnWorker } from '../../lib/workers.js';
import type { Feed, Feeds, SessionBackend } from './session.js';

export type ThreadRequest =
  | { op: 'open'; call: number; id: number; bytes: Uint8Array; options: ort.InferenceSession.SessionOptions }
  | { op: 'run'; call: number; id: number; feeds: Feeds; outputs?: readonly string[] }
  | { op: 'release'; call: number; id: number };

export type ThreadReply = { call: number; error: string } | { call: number; value: unknown };

export type Metadata = { inputs: ort.InferenceSession.ValueMetadata[]; outputs: ort.InferenceSession.ValueMetadata[] };

/** The thread is gone (closed, or it exited): its sessions cannot run. */
export class ThreadExited extends Error {
  constructor(detail = 'closed') {
    super(`the session thread exited (${detail})`);
    this.name = 'ThreadExited';
  }
}

type Request = ThreadRequest extends infer R ? (R extends ThreadRequest ? Omit<R, 'call'> : never) : never;

export class SessionThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private calls = 0;
  private ids = 0;
  /** Runs completed on the thread. */
  runs = 0;

  /** Creates a session from the model's bytes on the thread. */
  async open(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<SessionBackend> {
    const id = ++this.ids;
    const worker = this.start();
    const { inputs, outputs } = (await this.call({ op: 'open', id, bytes, options })) as Metadata;
    return {
      inputMetadata: inputs,
      outputMetadata: outputs,
      run: async (feeds, names) => {
        if (this.worker !== worker) throw new ThreadExited();
        const out = (await this.call({ op: 'run', id, feeds, outputs: names })) as Record<string, Feed>;
        this.runs++;
        return out;
      },
      release: async () => {
        if (this.worker !== worker) return; // gone with its thread
        await this.call({ op: 'release', id }).catch((e: unknown) => {
          if (!(e instanceof ThreadExited)) throw e;
        });
      },
    };
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = spawnWorker(new URL('./session-thread.worker.ts', import.meta.url), null);
    worker.unref();
    worker.on('message', (m: ThreadReply) => {
      const p = this.pending.get(m.call);
      if (!p) return;
      this.pending.delete(m.call);
      if (this.pending.size === 0) worker.unref();
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.value);
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', (err) => fail(new ThreadExited(err.message)));
    worker.on('exit', (code) => fail(new ThreadExited(`code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private call(request: Request): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new ThreadExited());
    const call = ++this.calls;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(call, { resolve, reject });
      worker.postMessage({ ...request, call });
    });
  }
}
