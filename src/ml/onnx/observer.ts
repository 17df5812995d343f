/**
 * Optional timing hooks for ONNX runs, for whoever wants to measure them (src/server turns them into Prometheus
 * histograms); the ML core knows nothing of what listens. Observers are process-wide, not per OnnxRuntime: every
 * runtime's sessions report to them, including runtimes that a caller owns privately (the content extractors').
 *
 * Cost: with no observer, one Set.size check per run; with one, a performance.now() pair per run and, per
 * micro-batch, one clock read and one subtraction per queued request. Nothing is done per row or per value.
 * An observer that throws is ignored (a metric must never fail a run).
 */
import type { ProviderName } from './session.js';

/** What a run reports about its session: the label it was created with and its ONNX metadata_props. */
export interface RunSession {
  readonly label: string;
  readonly provider: ProviderName;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface RunInfo {
  readonly session: RunSession;
  /** The leading dim of the first feed (the batch size of a batched model). */
  readonly rows: number;
  /** false: the run threw. */
  readonly ok: boolean;
}

export interface BatchInfo {
  readonly session: RunSession;
  /** Rows in this micro-batcher run. */
  readonly rows: number;
  /** Seconds each request of the run waited in the queue, from submit to the start of the run. */
  readonly waits: readonly number[];
}

export interface OnnxObserver {
  /** After each Session run (checked or not), with its wall time in seconds (the session thread's round trip included). */
  onRun?(seconds: number, info: RunInfo): void;
  /** When a MicroBatcher starts a run. */
  onBatch?(info: BatchInfo): void;
}

const observers = new Set<OnnxObserver>();

/** Adds an observer; returns its removal. */
export function observeOnnx(observer: OnnxObserver): () => void {
  observers.add(observer);
  return () => void observers.delete(observer);
}

/** Whether anyone listens (callers skip the clock otherwise). */
export const observed = (): boolean => observers.size > 0;

export function reportRun(seconds: number, info: RunInfo): void {
  for (const o of observers) {
    try {
      o.onRun?.(seconds, info);
    } catch {
      // ignored: see above
    }
  }
}

export function reportBatch(info: BatchInfo): void {
  for (const o of observers) {
    try {
      o.onBatch?.(info);
    } catch {
      // ignored
    }
  }
}
