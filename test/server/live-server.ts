/**
 * Real `memer serve` processes for the shutdown, crash and bad-input tests: a migrated throwaway database (SQLite
 * file or PostgreSQL) with a write key and, optionally, tiny active MEMER models for VIDEO posts (click and like),
 * so that every video upload must be stored with its vectors; a child process serving it on a free port; a client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/data/db.js';
import { migrate } from '../../src/data/migrate.js';
import type { Provider } from '../../src/data/provider.js';
import { KeysService } from '../../src/domain/keys/keys.service.js';
import { memerConfig, type ModalitySpec } from '../../src/ml/memer/config.js';
import { exportInferenceModel } from '../../src/ml/memer/export.js';
import { syntheticData } from '../../src/ml/memer/synthetic.js';
import { trainMemer } from '../../src/ml/memer/trainer.js';
import { tempDatabase } from '../helpers/databases.js';
import { TEST_FEATURES } from '../helpers/harness.js';

const bin = new URL('../../bin/memer.js', import.meta.url).pathname;

/** The signals the tiny models serve (VIDEO posts). */
export const MODEL_SIGNALS = ['click', 'like'];

export interface LiveDatabase {
  provider: Provider;
  url: string;
  modelDir: string;
  /** A write key. */
  key: string;
  /** A read key. */
  readKey: string;
  /** The environment a server over it needs. */
  env: Record<string, string>;
  /** A connection of the test's own, to check what is stored. */
  open(): Promise<Db>;
  drop(): Promise<void>;
}

const dims = (d: Partial<Record<string, number>>) =>
  Object.entries(d)
    .map(([m, n]) => `${m}=${n}`)
    .join(',');

export async function tinyVideoModel(seed: number, signal: string): Promise<Uint8Array> {
  const modalities: ModalitySpec[] = (['visual', 'audio', 'text'] as const).map((modality) => ({ modality, dim: TEST_FEATURES.video[modality]! }));
  const data = syntheticData({ modalities, items: 30, users: 10, samples: 120, embeddingDim: 4, seed });
  const config = memerConfig({ architecture: { modalities, embeddingDim: 4, semanticDim: 6, encoderHidden: 5, latentDim: 3, decoderHidden: 5 }, training: { seed, maxEpochs: 1, batchSize: 16, threads: 1 } });
  return exportInferenceModel(await trainMemer(data, config), { signal, mediaType: 'video', version: `${signal}-${seed}` });
}

export async function liveDatabase(provider: Provider, { models = false } = {}): Promise<LiveDatabase> {
  const temp = await tempDatabase(provider);
  const modelDir = mkdtempSync(join(tmpdir(), 'memer-live-'));
  await migrate(temp.url);
  const db = await openDatabase(temp.url);
  let key: string;
  let readKey: string;
  try {
    key = (await new KeysService(db.prisma).create(['write'], 'live test')).key;
    readKey = (await new KeysService(db.prisma).create(['read'], 'live test read')).key;
    if (models) {
      for (const [i, signal] of MODEL_SIGNALS.entries()) {
        writeFileSync(join(modelDir, `${signal}.onnx`), await tinyVideoModel(i + 1, signal));
        const { id } = await db.prisma.signal.findUniqueOrThrow({ where: { name: signal } });
        await db.prisma.modelVersion.create({ data: { version: `${signal}-v`, kind: 'MEMER', signalId: id, mediaType: 'VIDEO', status: 'READY', metrics: JSON.stringify({ freqScale: 50 }), artefact: `${signal}.onnx`, active: true } });
      }
    }
  } finally {
    await db.close();
  }
  return {
    provider,
    url: temp.url,
    modelDir,
    key,
    readKey,
    env: {
      DATABASE_URL: temp.url,
      MEMER_MODEL_DIR: modelDir,
      MEMER_FEATURES_VIDEO: dims(TEST_FEATURES.video),
      MEMER_FEATURES_IMAGE: dims(TEST_FEATURES.image),
      // One test client is one client: no rate limits.
      MEMER_RATE_PER_KEY: '0',
      MEMER_RATE_PER_ADDRESS: '0',
      LOG_LEVEL: 'warn',
    },
    open: () => openDatabase(temp.url),
    async drop() {
      rmSync(modelDir, { recursive: true, force: true });
      await temp.drop();
    },
  };
}

export interface LiveServer {
  url: string;
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `memer serve --port 0` and resolves once it prints its URL (that is, once /readyz answers 200). */
export async function spawnServer(env: Record<string, string>, timeoutMs = 60_000): Promise<LiveServer> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const serving = awaitServing(child, timeoutMs, 'memer serve');
  return { url: await serving.url, child, output: serving.output, exited: serving.exited };
}

/**
 * A spawned `memer serve` (stdout and stderr piped): its output so far, its exit, and the URL it prints once ready,
 * rejected with the output when it exits first or takes longer than `timeoutMs`.
 */
export function awaitServing(child: ChildProcess, timeoutMs: number, what: string): Omit<LiveServer, 'url' | 'child'> & { url: Promise<string> } {
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not become ready in ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /serving GraphQL at (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? signal}) before it was ready: ${out}`));
    });
  });
  return { url, output: () => out, exited };
}

/** Kills a server and waits for it (after a test failed, say); no-op when it has exited. */
export async function killServer(server: LiveServer | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
}

export interface Answer {
  status: number;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** One GraphQL POST; rejects when the connection fails (refused, reset: no answer). */
export async function gql(url: string, key: string | null, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

/** Deterministic numbers in [0, 1) (seeded, so a failing run can be repeated). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
