/**
 * Where the time goes, on /metrics: after uploads that run a MEMER model (through the micro-batcher) and a
 * recommendation request, the onnxruntime, micro-batcher and database histograms have observations, with bounded
 * labels (signal and media type, no post ids or versions); on PostgreSQL the pool gauges are there too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { openDatabase } from '../../src/data/db.js';
import { migrate } from '../../src/data/migrate.js';
import type { Provider } from '../../src/data/provider.js';
import { KeysService } from '../../src/domain/keys/keys.service.js';
import { createLogger } from '../../src/lib/logger.js';
import { vectorToBytes } from '../../src/lib/vectors.js';
import { observeOnnx } from '../../src/ml/onnx/observer.js';
import { OnnxRuntime } from '../../src/ml/onnx/runtime.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { PG_ADMIN, tempDatabase, type TempDatabase } from '../helpers/databases.js';
import { features, TEST_FEATURES } from '../helpers/harness.js';
import { tinyVideoModel } from './live-server.js';

const reachable = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port } = new URL(url);
    const s = connect(Number(port || 5432), hostname);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
const skipPg = (await reachable(PG_ADMIN)) ? false : `no PostgreSQL at ${PG_ADMIN}`;

/** A migrated database with active MEMER models for VIDEO (`signals`), a user with a click embedding, and a write key. */
async function seed(db: TempDatabase, modelDir: string, signals = ['click']): Promise<string> {
  await migrate(db.url);
  const open = await openDatabase(db.url);
  try {
    const p = open.prisma;
    for (const [i, signal] of signals.entries()) {
      writeFileSync(join(modelDir, `${signal}.onnx`), await tinyVideoModel(i + 1, signal));
      const { id } = await p.signal.findUniqueOrThrow({ where: { name: signal } });
      await p.modelVersion.create({ data: { version: `${signal}-v`, kind: 'MEMER', signalId: id, mediaType: 'VIDEO', status: 'READY', metrics: JSON.stringify({ freqScale: 50 }), artefact: `${signal}.onnx`, active: true } });
    }
    const click = await p.signal.findUniqueOrThrow({ where: { name: 'click' } });
    const user = await p.user.create({ data: { externalId: 'u0' } });
    await p.userEmbedding.create({ data: { userId: user.id, signalId: click.id, dim: 4, vector: vectorToBytes(Float32Array.of(0.5, -0.2, 0.1, 0.3)) } });
    return (await new KeysService(p).create(['write'], 'metrics test')).key;
  } finally {
    await open.close();
  }
}

async function gql(app: RunningApp, query: string, variables: Record<string, unknown> = {}, key?: string): Promise<any> {
  const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

const UPLOAD = 'mutation Upload($i: RegisterPostInput!) { registerPost(input: $i) { id embedding(signal: "click") { source } } }';
const RECOMMEND = 'query Recommend { recommendations(userId: "u0", signal: "click", first: 10) { post { id } } }';

/** The value of the sample `name{labels}` (labels as written by prom-client, in order), or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The sum of every `name{...}` sample whose labels include `part`. */
function total(text: string, name: string, part = ''): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(part))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  describe(`/metrics: inference, onnxruntime and database histograms (${provider})`, { skip: provider === 'postgresql' ? skipPg : false }, () => {
    let db: TempDatabase;
    let modelDir: string;
    let app: RunningApp;
    let text: string;

    before(async () => {
      db = await tempDatabase(provider);
      modelDir = mkdtempSync(join(tmpdir(), 'memer-metrics-'));
      const key = await seed(db, modelDir);
      const config = loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES, modelDir, ratePerKey: 0, ratePerAddress: 0 });
      app = await startApp(config, createLogger('error', () => undefined));
      const video = (i: number) => ({ id: `v-${i}`, mediaType: 'VIDEO', features: { visual: features(8, i), audio: features(4, i), text: features(3, i) } });
      // One at a time, then several at once (the micro-batcher may share a run between them).
      const first = await gql(app, UPLOAD, { i: video(0) }, key);
      assert.equal(first.registerPost.embedding?.source, 'MEMER');
      await Promise.all([1, 2, 3, 4].map((i) => gql(app, UPLOAD, { i: video(i) }, key)));
      await gql(app, RECOMMEND);
      text = await (await fetch(app.url.replace('/graphql', '/metrics'))).text();
    });
    after(async () => {
      await app?.stop();
      await db?.drop();
      if (modelDir) rmSync(modelDir, { recursive: true, force: true });
    });

    test('MEMER runs: onnxruntime run time, batch size and queue wait by signal and media type', () => {
      const runs = sample(text, 'memer_onnx_run_duration_seconds_count', 'kind="memer",signal="click",media_type="VIDEO"');
      assert.ok(runs !== undefined && runs > 0, `no MEMER runs timed:\n${text.split('\n').filter((l) => l.startsWith('memer_onnx')).join('\n')}`);
      const batches = sample(text, 'memer_inference_batch_size_count', 'signal="click",media_type="VIDEO"');
      assert.ok(batches !== undefined && batches > 0 && batches <= runs, `batches ${batches}, runs ${runs}`);
      // A lone upload goes through the batcher (uploads grouped into one commit run as one batch, past it); each of its
      // requests is one post and waited once.
      const rows = sample(text, 'memer_inference_batch_size_sum', 'signal="click",media_type="VIDEO"')!;
      assert.ok(rows >= 1 && rows <= 5, `rows ${rows}`);
      assert.equal(sample(text, 'memer_inference_queue_wait_seconds_count', 'signal="click",media_type="VIDEO"'), rows);
      assert.ok(sample(text, 'memer_onnx_run_duration_seconds_bucket', 'le="10",kind="memer",signal="click",media_type="VIDEO"') === runs);
      assert.match(text, /# TYPE memer_onnx_run_duration_seconds histogram/);
      assert.match(text, /# TYPE memer_inference_batch_size histogram/);
      assert.match(text, /# TYPE memer_inference_queue_wait_seconds histogram/);
      // Bounded labels: no post ids, no model versions.
      assert.ok(!/memer_(onnx|inference)_[^\n]*(v-\d|click-v)/.test(text));
    });

    test('database calls by provider, client and operation: Prisma and the direct path', () => {
      assert.match(text, /# TYPE memer_db_query_duration_seconds histogram/);
      assert.ok(total(text, 'memer_db_query_duration_seconds_count', `provider="${provider}",client="prisma"`) > 0);
      assert.ok((sample(text, 'memer_db_query_duration_seconds_count', `provider="${provider}",client="prisma",operation="ModelVersion.findMany"`) ?? 0) > 0, 'the registry sync');
      assert.ok(total(text, 'memer_db_query_duration_seconds_count', `provider="${provider}",client="direct"`) > 0, 'the upload hot path');
      assert.ok((sample(text, 'memer_db_query_duration_seconds_count', `provider="${provider}",client="direct",operation="transaction"`) ?? 0) > 0);
      // No SQL text or values in the labels.
      const ops = text.split('\n').filter((l) => l.startsWith('memer_db_query_duration_seconds_count{')).map((l) => /operation="([^"]*)"/.exec(l)![1]);
      for (const op of ops) assert.match(op, /^(\$?[A-Za-z]+(\.[A-Za-z]+)?|[a-z]+( [A-Za-z_]+)?|other)$/, op);
    });

    test('PostgreSQL pool gauges (absent on SQLite); the existing metrics keep their names', () => {
      if (provider === 'postgresql') {
        assert.match(text, /memer_db_pool_connections\{pool="prisma",state="idle"\} \d+/);
        assert.match(text, /memer_db_pool_connections\{pool="direct",state="busy"\} \d+/);
        assert.match(text, /memer_db_pool_waiting\{pool="direct"\} 0/);
      } else assert.ok(!/^memer_db_pool_connections\{/m.test(text));
      for (const name of ['memer_http_request_duration_seconds', 'memer_graphql_operation_duration_seconds', 'memer_query_rejected_total', 'memer_rate_limited_total', 'memer_ready', 'memer_index_posts', 'memer_model_active']) {
        assert.match(text, new RegExp(`# TYPE ${name} `), name);
      }
    });
  });
}

describe('/metrics: the merged session of two signals (sqlite)', () => {
  test('an ensemble run is labelled memer_ensemble with its signals joined by "+"; the batcher is not used', async () => {
    const db = await tempDatabase('sqlite');
    const modelDir = mkdtempSync(join(tmpdir(), 'memer-metrics-'));
    let app: RunningApp | undefined;
    try {
      const key = await seed(db, modelDir, ['click', 'like']);
      app = await startApp(loadConfig({}, { databaseUrl: db.url, port: 0, features: TEST_FEATURES, modelDir, ratePerKey: 0, ratePerAddress: 0 }), createLogger('error', () => undefined));
      assert.equal(app.services.registry.current().ensembles.length, 1);
      await gql(app, UPLOAD, { i: { id: 'e-1', mediaType: 'VIDEO', features: { visual: features(8), audio: features(4), text: features(3) } } }, key);
      const text = await (await fetch(app.url.replace('/graphql', '/metrics'))).text();
      assert.ok((sample(text, 'memer_onnx_run_duration_seconds_count', 'kind="memer_ensemble",signal="click+like",media_type="VIDEO"') ?? 0) > 0, text.split('\n').filter((l) => l.startsWith('memer_onnx_run_duration_seconds_count')).join('\n'));
      assert.equal(total(text, 'memer_inference_batch_size_count'), 0);
    } finally {
      await app?.stop();
      await db.drop();
      rmSync(modelDir, { recursive: true, force: true });
    }
  });
});

test('an ONNX observer that throws does not fail the run, and a removed one hears nothing more', async () => {
  const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: 1 });
  try {
    const bytes = await tinyVideoModel(2, 'click');
    const session = await runtime.createSession(bytes, 'observer test');
    const heard: number[] = [];
    const stopThrowing = observeOnnx({ onRun: () => { throw new Error('observer failure'); } });
    const stopHearing = observeOnnx({ onRun: (s, info) => heard.push(info.rows, s) });
    const feeds = Object.fromEntries(session.inputs.map((s) => {
      const dims = s.shape.map((d) => (typeof d === 'number' ? d : 3));
      return [s.name, { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims }];
    }));
    await session.run(feeds);
    assert.equal(heard[0], 3);
    assert.ok(heard[1] >= 0 && heard[1] < 10);
    stopThrowing();
    stopHearing();
    await session.run(feeds);
    assert.equal(heard.length, 2);
  } finally {
    await runtime.dispose();
  }
});
