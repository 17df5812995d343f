/**
 * `memer bench ingest`: interaction ingest rates, each beside the raw database's own insert rate for the same rows in
 * the same run.
 *   api     recordInteractions over loopback HTTP against a `memer serve` child process on a scratch database with
 *           `posts` video posts: `total` interactions in batches of `batch` with `concurrency` batches in flight, by
 *           `users` users (created by their first batch); interactions/s and p50/p99 batch latency. Once without
 *           event ids and once with an eventId on every element (the idempotent path; eventIds=0 or 1 picks one).
 *   raw     the same rows (resolved to keys) inserted by this process straight into the Interaction table of the
 *           same database: SQLite a cached prepared statement in one better-sqlite3 transaction; PostgreSQL a
 *           multi-row INSERT (unnest arrays, one statement per batch) and COPY FROM STDIN, each in one transaction.
 *   import  `memer import` (importDataset) of a generated dataset folder of `importRows` interactions over
 *           `importItems` items and `importUsers` users (ml-latest-small: 100,836 / 9,742 / 610) on a fresh database.
 * Parameters (--set): database=sqlite (postgresql or postgres, or both)  batch=1000  concurrency=4  total=100000
 *   posts=1000  users=10000  eventIds=0,1  importRows=100000  importItems=10000  importUsers=600
 *   parts=api,import (empty list: skip)  pgAdmin=postgresql://postgres@127.0.0.1:5432/postgres
 *   profile=DIR (the server's CPU profile, node --cpu-prof)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../data/db.js';
import { sqliteDate } from '../data/direct-sqlite.js';
import { migrate } from '../data/migrate.js';
import { sqlitePath, type Provider } from '../data/provider.js';
import { scratchDatabase } from '../data/scratch-database.js';
import { copyInteractions as copyInteractionsPg } from '../data/postgres/interactions.js';
import { importDataset } from '../domain/imports/import.service.js';
import { KeysService } from '../domain/keys/keys.service.js';
import { BenchArgError, percentile, positiveArg, startServeChild, stopServeChild, withBaseline, type Bench, type BenchResult } from './harness.js';
import { HttpClient } from './http-client.js';

const DEFAULT_PG_ADMIN = 'postgresql://postgres@127.0.0.1:5432/postgres';
const SIGNALS = ['click', 'like', 'share', 'favorite', 'video_play', 'skip'];
const RECORD = JSON.stringify('mutation($i: [InteractionInput!]!) { recordInteractions(inputs: $i) { recorded usersCreated posts } }');

export interface IngestParams {
  batch: number;
  concurrency: number;
  total: number;
  posts: number;
  users: number;
  eventIds: boolean[];
  importRows: number;
  importItems: number;
  importUsers: number;
  parts: Set<string>;
  profile?: string;
}

/** The k-th interaction of the run: a deterministic spread over users, posts and signals. */
export function interaction(k: number, p: Pick<IngestParams, 'posts' | 'users'>): { user: number; post: number; signal: number; label: number; at: number } {
  return { user: (k * 7919) % p.users, post: (k * 104_729 + (k >> 7)) % p.posts, signal: k % SIGNALS.length, label: k % 5 === 0 ? 0 : 1, at: Date.UTC(2026, 0, 1) + k * 1000 };
}

/** The JSON body of batch b (interactions b*batch ..), with an eventId per element when `ids` (prefix makes them unique per run). */
export function batchBody(b: number, p: Pick<IngestParams, 'posts' | 'users' | 'batch'>, ids: string | null): string {
  const parts: string[] = [];
  for (let j = 0; j < p.batch; j++) {
    const k = b * p.batch + j;
    const x = interaction(k, p);
    const id = ids === null ? '' : `,"eventId":"${ids}-${k}"`;
    parts.push(`{"userId":"u${x.user}","postId":"p${x.post}","signal":"${SIGNALS[x.signal]}","label":${x.label},"timestamp":"${new Date(x.at).toISOString()}"${id}}`);
  }
  return `{"query":${RECORD},"variables":{"i":[${parts.join(',')}]}}`;
}

/** Migrated, `posts` video posts p0.., a write key (returned). */
async function seed(url: string, posts: number): Promise<string> {
  await migrate(url);
  const db = await openDatabase(url);
  try {
    const now = new Date();
    const ids = Array.from({ length: posts }, (_, i) => `p${i}`);
    for (let i = 0; i < posts; i += 1000) {
      await db.prisma.post.createMany({ data: ids.slice(i, i + 1000).map((externalId) => ({ externalId, mediaType: 'VIDEO' as const, createdAt: now, registeredAt: now, payloadHash: '' })) });
    }
    return (await new KeysService(db.prisma).create(['write'], 'bench')).key;
  } finally {
    await db.close();
  }
}

type Reply = { data?: { recordInteractions?: { recorded: number } }; errors?: unknown[] };

/** Sends `bodies` with `concurrency` in flight; latency per batch (ms) and wall seconds. */
async function send(client: HttpClient, bodies: string[], concurrency: number, expect: number): Promise<{ latencies: number[]; seconds: number; recorded: number }> {
  const latencies: number[] = [];
  let next = 0;
  let recorded = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const t = performance.now();
        const r = JSON.parse(await client.post(bodies[i])) as Reply;
        latencies.push(performance.now() - t);
        if (r.errors || !r.data?.recordInteractions) throw new Error(`recordInteractions failed: ${JSON.stringify(r.errors ?? r.data).slice(0, 500)}`);
        recorded += r.data.recordInteractions.recorded;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (recorded !== expect) throw new Error(`recorded ${recorded} interactions, expected ${expect}`);
  return { latencies, seconds, recorded };
}

interface KeyedRow {
  userId: number;
  postId: number;
  signalId: number;
  label: number;
  at: number;
}

/** The run's rows under the database's keys (every user exists once the API part ran). */
async function keyedRows(url: string, provider: Provider, p: IngestParams): Promise<KeyedRow[]> {
  const db = await openDatabase(url);
  try {
    const users = new Map((await db.prisma.user.findMany({ select: { id: true, externalId: true } })).map((u) => [u.externalId, u.id]));
    const posts = new Map((await db.prisma.post.findMany({ select: { id: true, externalId: true } })).map((u) => [u.externalId, u.id]));
    const signals = new Map((await db.prisma.signal.findMany()).map((s) => [s.name, s.id]));
    void provider;
    return Array.from({ length: p.total }, (_, k) => {
      const x = interaction(k, p);
      return { userId: users.get(`u${x.user}`)!, postId: posts.get(`p${x.post}`)!, signalId: signals.get(SIGNALS[x.signal])!, label: x.label, at: x.at };
    });
  } finally {
    await db.close();
  }
}

const INSERT = `INSERT INTO "Interaction" ("userId", "postId", "signalId", "label", "timestamp", "eventId")`;

function rawSqlite(file: string, rows: KeyedRow[]): number {
  const db = new Database(file);
  try {
    db.pragma('synchronous = NORMAL');
    const stmt = db.prepare(`${INSERT} VALUES (?, ?, ?, ?, ?, NULL)`);
    const t = performance.now();
    db.transaction(() => {
      for (const r of rows) stmt.run(r.userId, r.postId, r.signalId, r.label, sqliteDate(new Date(r.at)));
    })();
    return rows.length / ((performance.now() - t) / 1000);
  } finally {
    db.close();
  }
}

async function rawPostgres(url: string, rows: KeyedRow[], batch: number): Promise<{ insert: number; copy: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    let t = performance.now();
    await c.query('BEGIN');
    for (let i = 0; i < rows.length; i += batch) {
      const part = rows.slice(i, i + batch);
      await c.query(`${INSERT} SELECT u, p, s, l, t, NULL FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::timestamp(3)[]) AS x(u, p, s, l, t)`, [
        part.map((r) => r.userId), part.map((r) => r.postId), part.map((r) => r.signalId), part.map((r) => r.label), part.map((r) => new Date(r.at).toISOString()),
      ]);
    }
    await c.query('COMMIT');
    const insert = rows.length / ((performance.now() - t) / 1000);
    t = performance.now();
    await c.query('BEGIN');
    await copyInteractionsPg(c, rows.map((r) => ({ userId: r.userId, postId: r.postId, signalId: r.signalId, label: r.label, timestamp: new Date(r.at) })));
    await c.query('COMMIT');
    return { insert, copy: rows.length / ((performance.now() - t) / 1000) };
  } finally {
    await c.end();
  }
}

const on = (provider: Provider) => (provider === 'postgresql' ? 'PostgreSQL' : 'SQLite');

async function apiPart(provider: Provider, pgAdmin: string, p: IngestParams, log: (l: string) => void): Promise<BenchResult[]> {
  const scratch = await scratchDatabase(provider, pgAdmin);
  const dir = mkdtempSync(join(tmpdir(), 'memer-bench-ingest-'));
  const results: BenchResult[] = [];
  try {
    const key = await seed(scratch.url, p.posts);
    mkdirSync(join(dir, 'models'));
    const nodeFlags = p.profile ? ['--cpu-prof', `--cpu-prof-dir=${p.profile}`] : [];
    const server = await startServeChild({ DATABASE_URL: scratch.url, MEMER_MODEL_DIR: join(dir, 'models'), MEMER_EXECUTION_PROVIDER: 'cpu', MEMER_MAX_BATCH: String(Math.max(1000, p.batch)) }, ['--host', '127.0.0.1'], nodeFlags);
    const url = new URL(server.url);
    const client = new HttpClient(url.hostname, Number(url.port), url.pathname, { authorization: `Bearer ${key}` });
    const measured: { label: string; rate: number; p50: number; p99: number }[] = [];
    try {
      const batches = Math.ceil(p.total / p.batch);
      // Warm-up (JIT, connections, users created): a tenth of the run, its own rows, not counted in the raw rows.
      const warm = Array.from({ length: Math.max(2, Math.ceil(batches / 10)) }, (_, b) => batchBody(batches * 2 + b, p, null));
      log(`${on(provider)}: warming up with ${warm.length} batches...`);
      await send(client, warm, p.concurrency, warm.length * p.batch);
      for (const ids of p.eventIds) {
        const bodies = Array.from({ length: batches }, (_, b) => batchBody(b, p, ids ? `e${provider[0]}` : null));
        const label = `recordInteractions on ${on(provider)}${ids ? ' with eventIds' : ''}`;
        log(`${label}: ${batches} batches of ${p.batch} at concurrency ${p.concurrency}...`);
        const r = await send(client, bodies, p.concurrency, batches * p.batch);
        measured.push({ label, rate: r.recorded / r.seconds, p50: percentile(r.latencies, 50), p99: percentile(r.latencies, 99) });
        if (ids) {
          // A retry of the first batch with the same ids records nothing.
          const again = JSON.parse(await client.post(bodies[0])) as Reply;
          if (again.data?.recordInteractions?.recorded !== 0) throw new Error(`a retried batch recorded ${JSON.stringify(again)}`);
        }
      }
    } finally {
      client.close();
      await stopServeChild(server.child);
    }
    log(`${on(provider)}: raw inserts of the same ${p.total} rows...`);
    const rows = await keyedRows(scratch.url, provider, { ...p, total: Math.ceil(p.total / p.batch) * p.batch });
    let baseline: { name: string; value: number };
    const raw: BenchResult[] = [];
    if (provider === 'sqlite') {
      const rate = rawSqlite(sqlitePath(scratch.url), rows);
      baseline = { name: 'raw SQLite prepared INSERT loop, one transaction', value: rate };
      raw.push({ name: `raw SQLite: prepared INSERT loop in one transaction`, value: rate, unit: 'interactions/s' });
    } else {
      const rate = await rawPostgres(scratch.url, rows, p.batch);
      baseline = { name: 'raw PostgreSQL multi-row INSERT (unnest), one transaction', value: rate.insert };
      raw.push({ name: `raw PostgreSQL: multi-row INSERT (unnest, ${p.batch} a statement) in one transaction`, value: rate.insert, unit: 'interactions/s' });
      raw.push({ name: `raw PostgreSQL: COPY FROM STDIN in one transaction`, value: rate.copy, unit: 'interactions/s' });
    }
    for (const m of measured) {
      results.push(withBaseline({ name: `${m.label}: throughput`, value: m.rate, unit: 'interactions/s' }, baseline));
      results.push({ name: `${m.label}: batch p50`, value: m.p50, unit: 'ms' });
      results.push({ name: `${m.label}: batch p99`, value: m.p99, unit: 'ms' });
    }
    results.push(...raw);
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await scratch.drop();
  }
}

/** A dataset folder (items.csv, interactions.csv, users.csv) of the given size. */
export function writeIngestDataset(dir: string, p: Pick<IngestParams, 'importRows' | 'importItems' | 'importUsers'>): void {
  mkdirSync(dir, { recursive: true });
  const items = ['item_id,created_at,media_type,tags,text'];
  for (let i = 0; i < p.importItems; i++) items.push(`i${i},2025-01-01T00:00:00Z,${i % 4 === 3 ? 'image' : 'video'},t${i % 20}|t${i % 7},item ${i}`);
  writeFileSync(join(dir, 'items.csv'), `${items.join('\n')}\n`);
  const users = ['user_id'];
  for (let u = 0; u < p.importUsers; u++) users.push(`m${u}`);
  writeFileSync(join(dir, 'users.csv'), `${users.join('\n')}\n`);
  const rows = ['user_id,item_id,signal,timestamp,label'];
  const t0 = Date.UTC(2025, 1, 1) / 1000;
  for (let k = 0; k < p.importRows; k++) rows.push(`m${(k * 7919) % p.importUsers},i${(k * 104_729) % p.importItems},rated,${t0 + k},${k % 3 === 0 ? 0 : 1}`);
  writeFileSync(join(dir, 'interactions.csv'), `${rows.join('\n')}\n`);
}

async function importPart(provider: Provider, pgAdmin: string, p: IngestParams, baseline: BenchResult | undefined, log: (l: string) => void): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'memer-bench-import-'));
  const scratch = await scratchDatabase(provider, pgAdmin);
  try {
    writeIngestDataset(join(dir, 'data'), p);
    await migrate(scratch.url);
    const db = await openDatabase(scratch.url);
    try {
      log(`${on(provider)}: memer import of ${p.importRows} interactions, ${p.importItems} items, ${p.importUsers} users...`);
      const t = performance.now();
      const summary = await importDataset(db, loadConfig({}), join(dir, 'data'));
      const seconds = (performance.now() - t) / 1000;
      if (summary.interactions !== p.importRows) throw new Error(`imported ${summary.interactions} interactions, expected ${p.importRows}`);
      const stored = await db.prisma.interaction.count();
      if (stored !== p.importRows) throw new Error(`stored ${stored} interactions, expected ${p.importRows}`);
      const base = baseline && { name: baseline.name, value: baseline.value };
      return [
        withBaseline({ name: `memer import on ${on(provider)}: throughput`, value: p.importRows / seconds, unit: 'interactions/s' }, base),
        { name: `memer import on ${on(provider)}: seconds`, value: seconds, unit: 's' },
      ];
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await scratch.drop();
  }
}

export function ingestParams(args: Record<string, string>): { providers: Provider[]; pgAdmin: string; params: IngestParams } {
  const database = args.database ?? 'sqlite';
  const providers: Provider[] | undefined = ({ sqlite: ['sqlite'], postgresql: ['postgresql'], postgres: ['postgresql'], both: ['sqlite', 'postgresql'] } as Record<string, Provider[]>)[database];
  if (!providers) throw new BenchArgError(`--set database: "${database}" is not sqlite, postgresql or both`);
  const eventIds = (args.eventIds ?? '0,1').split(',').filter(Boolean).map((v) => {
    if (v !== '0' && v !== '1') throw new BenchArgError(`--set eventIds: "${v}" is neither 0 nor 1`);
    return v === '1';
  });
  const parts = new Set((args.parts ?? 'api,import').split(',').filter(Boolean));
  for (const part of parts) if (part !== 'api' && part !== 'import') throw new BenchArgError(`--set parts: "${part}" is neither api nor import`);
  const params: IngestParams = {
    batch: positiveArg(args, 'batch', 1000, true),
    concurrency: positiveArg(args, 'concurrency', 4, true),
    total: positiveArg(args, 'total', 100_000, true),
    posts: positiveArg(args, 'posts', 1000, true),
    users: positiveArg(args, 'users', 10_000, true),
    eventIds,
    importRows: positiveArg(args, 'importRows', 100_000, true),
    importItems: positiveArg(args, 'importItems', 10_000, true),
    importUsers: positiveArg(args, 'importUsers', 600, true),
    parts,
    profile: args.profile,
  };
  return { providers, pgAdmin: args.pgAdmin ?? DEFAULT_PG_ADMIN, params };
}

export const bench: Bench = {
  summary: 'recordInteractions over HTTP and memer import, beside the raw database insert rate of the same rows',
  async run(args, log) {
    const { providers, pgAdmin, params } = ingestParams(args);
    const results: BenchResult[] = [];
    for (const provider of providers) {
      const api = params.parts.has('api') ? await apiPart(provider, pgAdmin, params, log) : [];
      results.push(...api);
      if (params.parts.has('import')) results.push(...(await importPart(provider, pgAdmin, params, api.filter((r) => r.name.startsWith('raw')).at(-1), log)));
    }
    return results;
  },
};
