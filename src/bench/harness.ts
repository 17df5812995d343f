import os from 'node:os';
import { createRequire } from 'node:module';
import { spawn, type ChildProcess } from 'node:child_process';

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

/** A bad `--set key=value` argument: `memer bench` reports it as a usage error (exit code 2), without a stack. */
export class BenchArgError extends Error {}

/** A positive number from the bench's `--set key=value` arguments (an integer where `integer`), else `fallback`. */
export function positiveArg(args: Record<string, string>, key: string, fallback: number, integer = false): number {
  const v = args[key] === undefined ? fallback : Number(args[key]);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new BenchArgError(`--set ${key}=${args[key]}: expected a positive ${integer ? 'integer' : 'number'}`);
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

/** A fixed integer loop, warmed up once, then timed; its wall time measures how fast a core runs JS right now. */
const SPIN = `function spin() { let s = 0; for (let i = 0; i < 5e7; i++) s = (s + i) | 0; return s; }
function timed() { const t = performance.now(); spin(); return performance.now() - t; }
spin();`;

/**
 * How much CPU the machine gives right now: the time of a fixed loop on one thread, and the speedup of running it on
 * two threads at once (2 where two cores are fully available). On the shared 2-core machines the speedup was seen
 * anywhere from ~1 to 2 within minutes, which moves every latency figure measured beside it; benches report both, so
 * that a run can be read with the state of the machine it ran on. Above 2: the machine sped up between the rounds.
 */
export async function cpuAvailability(rounds = 7): Promise<BenchResult[]> {
  const { Worker } = await import('node:worker_threads');
  const timed = new Function(`${SPIN} return timed;`)() as () => number;
  // Both workers load and warm up first, then run the loop together on each signal; single-thread rounds interleave
  // with the paired ones, and the medians are reported (the machine's speed moves within a second).
  const workers = [0, 1].map(() => new Worker(`${SPIN} const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => parentPort.postMessage(timed())); parentPort.postMessage('ready');`, { eval: true, execArgv: [] }));
  try {
    // The next message of `w`, or its error (the error listener goes with each message, so rounds do not pile them up).
    const next = (w: InstanceType<typeof Worker>) =>
      new Promise<unknown>((resolve, reject) => {
        w.once('error', reject).once('message', (m) => {
          w.off('error', reject);
          resolve(m);
        });
      });
    await Promise.all(workers.map(next));
    const single: number[] = [];
    const paired: number[] = [];
    for (let r = 0; r < rounds; r++) {
      single.push(timed());
      const times = Promise.all(workers.map(next)) as Promise<number[]>;
      for (const w of workers) w.postMessage('go');
      paired.push(Math.max(...(await times)));
    }
    const [one, two] = [percentile(single, 50), percentile(paired, 50)];
    return [
      { name: 'machine: fixed loop on one thread (median)', value: one, unit: 'ms' },
      withBaseline({ name: 'machine: speedup of two threads at once (median)', value: (2 * one) / two, unit: 'x' }, { name: 'two cores fully available', value: 2 }),
    ];
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A `memer serve` child process of a benchmark and the URL it printed once ready. */
export interface ServeChild {
  url: string;
  child: ChildProcess;
}

/**
 * Starts `memer serve --port 0 [args]` with `env` over this process's environment, without REDIS_URL (a benchmark
 * names its Redis itself) and with rate limits off (one load generator is one client: the service is measured, not its
 * limits); resolves with its URL once it prints it (then /readyz answers 200). `nodeFlags` go to node (e.g. --cpu-prof).
 */
export async function startServeChild(env: Record<string, string>, args: readonly string[] = [], nodeFlags: readonly string[] = []): Promise<ServeChild> {
  const base = { ...process.env };
  delete base.REDIS_URL;
  const bin = new URL('../../bin/memer.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [...nodeFlags, bin, 'serve', ...args, '--port', '0'], {
    env: { ...base, MEMER_RATE_PER_KEY: '0', MEMER_RATE_PER_ADDRESS: '0', ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /serving GraphQL at (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`memer serve exited with ${code}: ${out}`)));
  });
  return { url, child };
}

/** SIGTERM (a graceful stop) and wait; no-op when the child has exited. */
export async function stopServeChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
