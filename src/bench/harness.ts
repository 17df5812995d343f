import os from 'node:os';
import { createRequire } from 'node:module';

/** One measured figure; `baseline` is the reference measured in the same run, `ratio` = value / baseline. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  ratio?: number;
}

/** What `memer bench <name>` needs from src/bench/<name>.ts. */
export interface Bench {
  summary: string;
  /** Runs the measurements; `args` are the command's extra `--key=value` flags, `log` writes progress to stderr. */
  run(args: Record<string, string>, log: (line: string) => void): Promise<BenchResult[]>;
}

export function withBaseline(result: Omit<BenchResult, 'ratio' | 'baseline'>, baseline?: { name: string; value: number }): BenchResult {
  if (!baseline) return result;
  return { ...result, baseline, ratio: baseline.value === 0 ? 0 : result.value / baseline.value };
}

export function machineInfo(): Record<string, string | number> {
  const require = createRequire(import.meta.url);
  let onnxruntime = 'unknown';
  try {
    onnxruntime = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    /* not installed */
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    onnxruntime,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

/** A positive number from the bench's `--set key=value` arguments (an integer where `integer`), else `fallback`. */
export function positiveArg(args: Record<string, string>, key: string, fallback: number, integer = false): number {
  const v = args[key] === undefined ? fallback : Number(args[key]);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`--set ${key}=${args[key]}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return v;
}

/** Percentile of an unsorted sample (nearest rank). */
export function percentile(samples: ArrayLike<number>, p: number): number {
  const sorted = Float64Array.from(samples).sort();
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
