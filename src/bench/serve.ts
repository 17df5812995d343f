/**
 * `memer bench serve`: the service over real HTTP on loopback, in a child process (`memer serve`) so that the load
 * generator does not share its event loop.
 *   uploads          registerPost of a video with the paper's feature sizes (2048 + 128 + 100 + 3), an active
 *                    MEMER model for each of the six video signals and their recommendation indexes built, at
 *                    concurrency 1, 16 and 64: p50, p99, posts/s, and CPU per upload of the server and of this
 *                    load generator (they share the machine; it is a lean keep-alive HTTP/1.1 client, http-client.ts,
 *                    so that it leaves the server most of the CPU); baseline: the raw onnxruntime run of the same model
 *                    for one post, measured in this process.
 *   recommendations  at each size (default 100k and 1M posts): p50 and p99 of `recommendations(first: 50)` with the
 *                    exact index and with the approximate (HNSW) one, and recall@50 of the approximate results
 *                    against exact search; baseline: the same search on a VectorStore in this process (raw index).
 *                    Also the popularity fallback of users without an embedding (p50, p99).
 *   machine          before and after the uploads, the speed of a fixed loop on one thread and the speedup of two
 *                    threads at once (harness.ts cpuAvailability): on shared machines these move within minutes, and
 *                    the upload latencies with them.
 * Parameters (--set): sizes=100000,1000000 (empty: skip)  queries=1000  uploads=1,16,64 (empty: skip)
 *   database=sqlite (or postgresql: both parts on throwaway databases beside
 *   pgAdmin=postgresql://postgres@127.0.0.1:5432/postgres)
 *   measured=1000 (uploads measured per level, at least 40 x the concurrency: at c=16 on a fast machine 1,000 take
 *   ~0.3 s, so one stall of the machine sets the p99; more gives a steadier figure)
 *   encodings=json,f16 (how upload features travel: JSON number arrays, packed float16 base64)
 *   Diagnostics: profile=DIR (server CPU profile)  serverFlags="--trace-gc ..." (node flags for the server process)
 *   serverLog=FILE (the server's standard output, where V8's traces go)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../data/db.js';
import { migrate } from '../data/migrate.js';
import { providerOf, sqlitePath, type Provider } from '../data/provider.js';
import { scratchDatabase } from '../data/scratch-database.js';
import { KeysService } from '../domain/keys/keys.service.js';
import { memerConfig, paperModalities } from '../ml/memer/config.js';
import { exportInferenceModel } from '../ml/memer/export.js';
import { MemerEmbedder } from '../ml/memer/inference.js';
import { syntheticData } from '../ml/memer/synthetic.js';
import { trainMemer } from '../ml/memer/trainer.js';
import { OnnxRuntime } from '../ml/onnx/runtime.js';
import { structuredVectors } from '../ml/retrieval/synthetic.js';
import { VectorStore } from '../ml/retrieval/vector-store.js';
import { packFloats } from '../lib/packed-floats.js';
import { vectorToBytes } from '../lib/vectors.js';
import { HttpClient } from './http-client.js';
import { BenchArgError, cpuAvailability, percentile, positiveArg, withBaseline, type Bench, type BenchResult } from './harness.js';

/** Where `--set database=postgresql` creates its throwaway database (`--set pgAdmin=URL` to change). */
const DEFAULT_PG_ADMIN = 'postgresql://postgres@127.0.0.1:5432/postgres';

const VIDEO_SIGNALS = ['click', 'like', 'share', 'favorite', 'video_play', 'skip'];
const AUX = 3;
const DIM = 32;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** How the server process runs: node flags (`--set profile=DIR` adds --cpu-prof) and where its standard output goes. */
const serverOptions: { nodeFlags: string[]; logFile?: string } = { nodeFlags: [] };

async function startServer(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...serverOptions.nodeFlags, new URL('../../bin/memer.js', import.meta.url).pathname, 'serve', '--port', String(port)], {
    // The service, not its rate limits, is measured (the load generator is one client); the environment may set them.
    env: { MEMER_RATE_PER_KEY: '0', MEMER_RATE_PER_ADDRESS: '0', ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (serverOptions.logFile) appendFileSync(serverOptions.logFile, b);
      if (out.includes('serving GraphQL')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`memer serve exited with ${code}: ${out}`)));
  });
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** CPU seconds (user + system) a process, or one of its threads (`task`), has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid: number, task?: number): number | null {
  try {
    const fields = readFileSync(task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

/** CPU seconds of every PostgreSQL process on this machine (the cluster's backends and helpers); null where /proc is absent. */
function postgresCpuSeconds(): number | null {
  try {
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') total += cpuSeconds(Number(pid)) ?? 0;
      } catch {
        // the process ended meanwhile
      }
    }
    return total;
  } catch {
    return null;
  }
}

type Reply = { data?: any; errors?: unknown[] };

/** A GraphQL client over HttpClient: POSTs a body (already serialised JSON) and parses the reply. */
const graphql = (client: HttpClient) => async (body: string) => JSON.parse(await client.post(body)) as Reply;
const request = (query: string, variables: unknown) => JSON.stringify({ query, variables });

/** Runs `total` calls of `task` with `concurrency` in flight; latencies in ms and wall seconds. */
async function load(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = performance.now();
        await task(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

const features = (seed: number) => {
  const f = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(seed * 0.37 + s * 1.3 + i * 0.11) * 1000) / 1000);
  return { visual: f(2048, 1), audio: f(128, 2), text: f(100, 3), aux: f(AUX, 4) };
};

/** A MEMER model at the paper's video shapes (trained briefly on planted data: the bench measures speed, not quality). */
async function paperModel(runtime: OnnxRuntime): Promise<Uint8Array> {
  const modalities = paperModalities('video', AUX);
  const data = syntheticData({ modalities, items: 300, users: 50, samples: 3000, embeddingDim: DIM, seed: 3 });
  const trained = await trainMemer(data, memerConfig({ architecture: { modalities, embeddingDim: DIM }, training: { maxEpochs: 1, batchSize: 1024 } }), { runtime });
  return exportInferenceModel(trained, { signal: 'click', mediaType: 'video', version: 'bench' });
}

/** How an upload's features travel: JSON number arrays, or packed float16 base64 strings (lib/packed-floats.ts). */
type Encoding = 'json' | 'f16';

const encoded = (f: ReturnType<typeof features>, encoding: Encoding) =>
  JSON.stringify(encoding === 'json' ? f : Object.fromEntries(Object.entries(f).map(([k, v]) => [k, packFloats(v, 'f16')])));

/**
 * The upload server's database, through Prisma so that both providers take the same rows: migrated, the bench model
 * active for each video signal, a user with an embedding per signal (so that the server builds its recommendation
 * indexes and every upload goes into them, as in production), and a write key, returned.
 */
async function seedUploads(url: string): Promise<string> {
  await migrate(url);
  const db = await openDatabase(url);
  try {
    const p = db.prisma;
    const user = await p.user.create({ data: { externalId: 'u0' } });
    const vector = vectorToBytes(structuredVectors(1, DIM, 5));
    for (const s of await p.signal.findMany({ where: { name: { in: VIDEO_SIGNALS } } })) {
      await p.modelVersion.create({ data: { version: `bench-${s.name}`, kind: 'MEMER', signalId: s.id, mediaType: 'VIDEO', status: 'READY', metrics: '{"freqScale":100}', artefact: 'bench.onnx', active: true } });
      await p.userEmbedding.create({ data: { userId: user.id, signalId: s.id, dim: DIM, vector } });
    }
    return (await new KeysService(p).create(['write'], 'bench')).key;
  } finally {
    await db.close();
  }
}

/** `work` on a throwaway database of the provider (dropped afterwards): the server's, for one part of the bench. */
async function onScratch<T>(database: Provider, pgAdmin: string, work: (url: string) => Promise<T>): Promise<T> {
  const scratch = await scratchDatabase(database, pgAdmin);
  try {
    return await work(scratch.url);
  } finally {
    await scratch.drop();
  }
}

/** ' on PostgreSQL' in the result names of a PostgreSQL run; nothing for SQLite, the default. */
const onLabel = (url: string) => (providerOf(url) === 'postgresql' ? ' on PostgreSQL' : '');

async function uploads(db: string, dir: string, levels: number[], encodings: Encoding[], measured: number, log: (l: string) => void): Promise<BenchResult[]> {
  const modelDir = join(dir, 'models');
  mkdirSync(modelDir, { recursive: true });
  const runtime = new OnnxRuntime({ provider: 'cpu' });
  log('training a MEMER model at the paper shapes...');
  const onnx = await paperModel(runtime);
  writeFileSync(join(modelDir, 'bench.onnx'), onnx);
  const key = await seedUploads(db);

  // Raw onnxruntime: one post through the same model, no HTTP, no database.
  const embedder = await MemerEmbedder.load(runtime, 'raw', onnx);
  const post = { features: Object.fromEntries(Object.entries(features(1)).map(([k, v]) => [k, Float32Array.from(v)])), freq: 0 };
  for (let i = 0; i < 50; i++) await embedder.embedMany([post]);
  const raw = await load(500, 1, async () => void (await embedder.embedMany([post])));
  const rawP50 = percentile(raw.latencies, 50);
  await runtime.dispose();

  const port = await freePort();
  const server = await startServer({ DATABASE_URL: db, MEMER_MODEL_DIR: modelDir, MEMER_EXECUTION_PROVIDER: 'cpu' }, port);
  const client = new HttpClient('127.0.0.1', port, '/graphql', { authorization: `Bearer ${key}` });
  const send = graphql(client);
  const postgres = providerOf(db) === 'postgresql';
  const results: BenchResult[] = [withBaseline({ name: 'raw onnxruntime: one post, p50', value: rawP50, unit: 'ms' })];
  try {
    let id = 0;
    const mutation = `mutation($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { source } } }`;
    const head = JSON.stringify(mutation);
    for (const [e, encoding] of encodings.entries()) {
      // Request bodies are assembled from pre-serialised feature vectors (16 variants), so that the load generator,
      // which shares the machine's cores with the server, spends little CPU per request.
      const variants = Array.from({ length: 16 }, (_, v) => encoded(features(v), encoding));
      const once = async () => {
        const n = id++;
        const body = `{"query":${head},"variables":{"i":{"id":"b${n}","mediaType":"VIDEO","tags":["t${n % 50}"],"features":${variants[n % 16]}}}}`;
        const r = await send(body);
        if (r.errors || r.data.registerPost.servingSources[0].source !== 'MEMER') throw new Error(`registerPost failed: ${JSON.stringify(r.errors ?? r.data)}`);
      };
      // Warm up (JIT, caches): V8 is still optimising the request path after the first thousand uploads; a round
      // measured after 300 ran at 0.7-0.8x the throughput of the next one (measured). A later encoding shares most of it.
      await load(e === 0 ? 2000 : 1000, 16, once);
      const label = `registerPost${onLabel(db)}${encoding === 'json' ? '' : ` (${encoding} features)`}`;
      for (const c of levels) {
        // Enough uploads that p99 is not the second-slowest of a few hundred.
        const total = Math.max(measured, c * 40);
        log(`${label} at concurrency ${c} (${total} uploads after ${c * 6} to warm up)...`);
        // Each level first warms up at its own concurrency: new connections, and onnxruntime and V8 meeting the
        // level's batch sizes for the first time, put the first round's p99 at 5-10x the steady state (measured).
        await load(c * 6, c, once);
        // The main thread's share (the thread whose id is the process id): its event loop is what queues requests.
        const [serverCpu, mainCpu, clientCpu, pgCpu] = [cpuSeconds(server.pid!), cpuSeconds(server.pid!, server.pid!), process.cpuUsage(), postgres ? postgresCpuSeconds() : null];
        const r = await load(total, c, once);
        const [serverUsed, mainUsed, pgUsed] = [cpuSeconds(server.pid!), cpuSeconds(server.pid!, server.pid!), postgres ? postgresCpuSeconds() : null];
        results.push(withBaseline({ name: `${label} c=${c}: p50`, value: percentile(r.latencies, 50), unit: 'ms' }, { name: 'raw onnxruntime p50', value: rawP50 }));
        results.push(withBaseline({ name: `${label} c=${c}: p99`, value: percentile(r.latencies, 99), unit: 'ms' }));
        results.push(withBaseline({ name: `${label} c=${c}: throughput`, value: total / r.seconds, unit: 'posts/s' }));
        // CPU per upload: what bounds throughput on a small machine, and less sensitive to other load than latency.
        if (serverCpu !== null && serverUsed !== null) results.push(withBaseline({ name: `${label} c=${c}: server CPU per upload`, value: ((serverUsed - serverCpu) * 1000) / total, unit: 'ms' }));
        if (mainCpu !== null && mainUsed !== null) results.push(withBaseline({ name: `${label} c=${c}: server main thread CPU per upload`, value: ((mainUsed - mainCpu) * 1000) / total, unit: 'ms' }));
        // On PostgreSQL the database's own processes share the machine too.
        if (pgCpu !== null && pgUsed !== null) results.push(withBaseline({ name: `${label} c=${c}: PostgreSQL processes' CPU per upload`, value: ((pgUsed - pgCpu) * 1000) / total, unit: 'ms' }));
        const client = process.cpuUsage(clientCpu);
        results.push(withBaseline({ name: `${label} c=${c}: load generator CPU per upload`, value: (client.user + client.system) / 1000 / total, unit: 'ms' }));
      }
    }
  } finally {
    client.close();
    await stopServer(server);
  }
  return results;
}

/** Users of the recommendation databases, each with a click embedding. */
const REC_USERS = 200;

/** Every post's click statistics: views spread over 0-999, a third of them positive (the popularity fallback ranks by these). */
const views = (id: number) => (id * 7919) % 1000;

/** Fills a migrated SQLite file with `size` posts (ids 1..size), their click vectors and statistics, and the users. */
function fillSqlite(file: string, vectors: Float32Array, userVectors: Float32Array): void {
  const size = vectors.length / DIM;
  const sql = new Database(file);
  sql.pragma('journal_mode = WAL');
  const click = (sql.prepare(`SELECT "id" FROM "Signal" WHERE "name" = 'click'`).get() as { id: number }).id;
  const now = new Date().toISOString();
  sql.transaction(() => {
    const post = sql.prepare(`INSERT INTO "Post" ("id", "externalId", "mediaType", "createdAt", "registeredAt", "payloadHash") VALUES (?, ?, ?, ?, ?, '')`);
    const emb = sql.prepare(`INSERT INTO "PostEmbedding" ("postId", "signalId", "source", "dim", "vector", "views", "updatedAt") VALUES (?, ?, 'MEMER', ${DIM}, ?, 0, ?)`);
    const stat = sql.prepare(`INSERT INTO "PostSignalStat" ("postId", "signalId", "positives", "total", "firstSeen", "lastSeen") VALUES (?, ?, ?, ?, ?, ?)`);
    for (let i = 0; i < size; i++) {
      post.run(i + 1, `p${i}`, i % 3 ? 'VIDEO' : 'IMAGE', now, now);
      emb.run(i + 1, click, vectorToBytes(vectors.subarray(i * DIM, (i + 1) * DIM)), now);
      stat.run(i + 1, click, Math.floor(views(i + 1) / 3), views(i + 1), now, now);
    }
    const user = sql.prepare(`INSERT INTO "User" ("id", "externalId", "updatedAt") VALUES (?, ?, ?)`);
    const uemb = sql.prepare(`INSERT INTO "UserEmbedding" ("userId", "signalId", "dim", "vector", "updatedAt") VALUES (?, ?, ${DIM}, ?, ?)`);
    for (let u = 0; u < REC_USERS; u++) {
      user.run(u + 1, `u${u}`, now);
      uemb.run(u + 1, click, vectorToBytes(userVectors.subarray(u * DIM, (u + 1) * DIM)), now);
    }
  })();
  sql.close();
}

/** fillSqlite's rows on PostgreSQL, 20k posts per statement (unnest arrays). */
async function fillPostgres(url: string, vectors: Float32Array, userVectors: Float32Array): Promise<void> {
  const size = vectors.length / DIM;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const click = (await c.query<{ id: number }>(`SELECT "id" FROM "Signal" WHERE "name" = 'click'`)).rows[0].id;
    const now = new Date().toISOString();
    const bytes = (m: Float32Array, i: number) => Buffer.from(vectorToBytes(m.subarray(i * DIM, (i + 1) * DIM)));
    await c.query('BEGIN');
    for (let from = 0; from < size; from += 20_000) {
      const ids = Array.from({ length: Math.min(20_000, size - from) }, (_, k) => from + k + 1);
      await c.query(
        `INSERT INTO "Post" ("id", "externalId", "mediaType", "createdAt", "registeredAt", "payloadHash")
         SELECT x.id, 'p' || (x.id - 1), (CASE WHEN (x.id - 1) % 3 = 0 THEN 'IMAGE' ELSE 'VIDEO' END)::"MediaType", $2::timestamp(3), $2::timestamp(3), '' FROM unnest($1::int[]) AS x(id)`,
        [ids, now],
      );
      await c.query(
        `INSERT INTO "PostEmbedding" ("postId", "signalId", "source", "dim", "vector", "views", "updatedAt")
         SELECT x.id, $2, 'MEMER', ${DIM}, x.v, 0, $3::timestamp(3) FROM unnest($1::int[], $4::bytea[]) AS x(id, v)`,
        [ids, click, now, ids.map((id) => bytes(vectors, id - 1))],
      );
      await c.query(
        `INSERT INTO "PostSignalStat" ("postId", "signalId", "positives", "total", "firstSeen", "lastSeen")
         SELECT x.id, $2, x.views / 3, x.views, $3::timestamp(3), $3::timestamp(3) FROM unnest($1::int[], $4::int[]) AS x(id, views)`,
        [ids, click, now, ids.map(views)],
      );
    }
    const users = Array.from({ length: REC_USERS }, (_, u) => u + 1);
    await c.query(`INSERT INTO "User" ("id", "externalId", "updatedAt") SELECT x.id, 'u' || (x.id - 1), $2::timestamp(3) FROM unnest($1::int[]) AS x(id)`, [users, now]);
    await c.query(
      `INSERT INTO "UserEmbedding" ("userId", "signalId", "dim", "vector", "updatedAt") SELECT x.id, $2, ${DIM}, x.v, $3::timestamp(3) FROM unnest($1::int[], $4::bytea[]) AS x(id, v)`,
      [users, click, now, users.map((u) => bytes(userVectors, u - 1))],
    );
    // Ids were given explicitly: move the sequences past them, and let the planner see the new rows.
    await c.query(`SELECT setval('"Post_id_seq"', $1), setval('"User_id_seq"', $2)`, [size, REC_USERS]);
    await c.query('COMMIT');
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

async function recommendations(db: string, dir: string, size: number, queries: number, log: (l: string) => void): Promise<BenchResult[]> {
  await migrate(db);
  log(`filling a database with ${size.toLocaleString('en-US')} posts and their embeddings...`);
  const vectors = structuredVectors(size, DIM, 11);
  const users = REC_USERS;
  const userVectors = structuredVectors(users, DIM, 12);
  if (providerOf(db) === 'postgresql') await fillPostgres(db, vectors, userVectors);
  else fillSqlite(sqlitePath(db), vectors, userVectors);

  // Raw index figures: the same vectors in a VectorStore in this process, with the server's exact path (onnxruntime).
  const runtime = new OnnxRuntime({ provider: 'cpu' });
  const store = (approximateFrom: number) => {
    const s = new VectorStore({ dim: DIM, approximateFrom, runtime });
    s.upsertMany(Int32Array.from({ length: size }, (_, i) => i + 1), vectors);
    return s;
  };
  const results: BenchResult[] = [];
  const query = `query($u: ID!) { recommendations(userId: $u, signal: "click", first: 50) { post { id } } }`;
  const exactIds: string[][] = [];
  const sizeLabel = size >= 1e6 ? `${size / 1e6}M` : `${size / 1e3}k`;
  const on = onLabel(db);
  for (const mode of ['exact', 'approximate'] as const) {
    const approximateFrom = mode === 'exact' ? size + 1 : Math.min(size, 50_000);
    log(`recommendations at ${size.toLocaleString('en-US')} posts, ${mode} (server start builds the index)...`);
    const raw = store(approximateFrom);
    const rawLat = await load(queries, 1, async (i) => void (await raw.searchAsync(userVectors.subarray((i % users) * DIM, ((i % users) + 1) * DIM), 50)));
    await raw.dispose();
    const port = await freePort();
    const server = await startServer({ DATABASE_URL: db, MEMER_APPROXIMATE_FROM: String(approximateFrom), MEMER_EXECUTION_PROVIDER: 'cpu', MEMER_MODEL_DIR: join(dir, 'none') }, port);
    const client = new HttpClient('127.0.0.1', port, '/graphql');
    const post = graphql(client);
    try {
      const t = performance.now();
      await post(request(query, { u: 'u0' }));
      log(`  first answer after ${((performance.now() - t) / 1000).toFixed(1)} s`);
      // Steady state: the database was filled just before the server started, so the first refreshes' look-back
      // window (5 s overlap + one interval) still holds every post. Measure after it.
      await new Promise((r) => setTimeout(r, 8000));
      // Then warm up: the first queries after the pause (a new connection, code paths V8 has not optimised yet, index
      // memory paged out) took 20-60 ms, which with a few hundred queries was the p99 by itself (measured).
      await load(100, 1, async (i) => void (await post(request(query, { u: `u${i % users}` }))));
      const got: string[][] = [];
      const r = await load(queries, 1, async (i) => {
        const res = await post(request(query, { u: `u${i % users}` }));
        if (res.errors) throw new Error(JSON.stringify(res.errors));
        if (i < users) got[i] = res.data.recommendations.map((x: { post: { id: string } }) => x.post.id);
      });
      const label = `recommendations${on} ${sizeLabel} posts, ${mode}`;
      results.push(withBaseline({ name: `${label}: p50`, value: percentile(r.latencies, 50), unit: 'ms' }, { name: 'raw index search p50', value: percentile(rawLat.latencies, 50) }));
      results.push(withBaseline({ name: `${label}: p99`, value: percentile(r.latencies, 99), unit: 'ms' }, { name: 'raw index search p99', value: percentile(rawLat.latencies, 99) }));
      if (mode === 'exact') {
        exactIds.push(...got);
        // Users without an embedding (unknown ids): the popularity fallback, which reads the statistics, not the index.
        const cold = await load(Math.min(queries, 200), 1, async (i) => {
          const res = await post(request(query, { u: `cold${i}` }));
          if (res.errors || res.data.recommendations.length === 0) throw new Error(`popularity fallback failed: ${JSON.stringify(res.errors ?? res.data)}`);
        });
        const name = `recommendations${on} ${sizeLabel} posts, popularity fallback (user without embedding)`;
        results.push(withBaseline({ name: `${name}: p50`, value: percentile(cold.latencies, 50), unit: 'ms' }));
        results.push(withBaseline({ name: `${name}: p99`, value: percentile(cold.latencies, 99), unit: 'ms' }));
      } else {
        let hit = 0;
        let all = 0;
        got.forEach((ids, u) => {
          const truth = new Set(exactIds[u]);
          all += truth.size;
          hit += ids.filter((x) => truth.has(x)).length;
        });
        results.push(withBaseline({ name: `${label}: recall@50 vs exact`, value: all ? hit / all : 0, unit: 'ratio' }));
      }
    } finally {
      client.close();
      await stopServer(server);
    }
  }
  await runtime.dispose();
  return results;
}

export const bench: Bench = {
  summary: 'registerPost and recommendations over HTTP against a memer serve child process',
  async run(args, log) {
    // A comma-separated list of positive integers; empty skips that part.
    const list = (key: string, fallback: string) => (args[key] ?? fallback).split(',').filter(Boolean).map((v) => positiveArg({ [key]: v }, key, 0, true));
    const sizes = list('sizes', '100000,1000000');
    const levels = list('uploads', '1,16,64');
    const encodings = (args.encodings ?? 'json,f16').split(',').filter(Boolean) as Encoding[];
    for (const e of encodings) if (e !== 'json' && e !== 'f16') throw new BenchArgError(`--set encodings: "${e}" is neither json nor f16`);
    const queries = positiveArg(args, 'queries', 1000, true);
    const measured = positiveArg(args, 'measured', 1000, true);
    const database = args.database ?? 'sqlite';
    if (database !== 'sqlite' && database !== 'postgresql') throw new BenchArgError(`--set database: "${database}" is neither sqlite nor postgresql`);
    serverOptions.nodeFlags = [...(args.serverFlags ?? '').split(' ').filter(Boolean), ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [])];
    serverOptions.logFile = args.serverLog;
    const dir = mkdtempSync(join(tmpdir(), 'memer-bench-serve-'));
    try {
      // The machine's CPU now, before and after the uploads (see cpuAvailability): latency at c=16 follows it.
      const pgAdmin = args.pgAdmin ?? DEFAULT_PG_ADMIN;
      const results = levels.length ? [...(await cpuAvailability()), ...(await onScratch(database, pgAdmin, (url) => uploads(url, dir, levels, encodings, measured, log))), ...(await cpuAvailability())] : [];
      for (const size of sizes) results.push(...(await onScratch(database, pgAdmin, (url) => recommendations(url, dir, size, queries, log))));
      return results;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
