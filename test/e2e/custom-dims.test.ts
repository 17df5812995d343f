/**
 * Feature widths other than the paper's, as a new user meets them, with nothing configured: a dataset folder with
 * 12-d visual and 5-d audio features (no text, every interaction at the same time, as the TikTok import gives) goes
 * through `memer import` and `memer train --activate` (the CLI's main), then the server `memer serve` starts (startApp):
 * registerPost with 12-d visual features gets a MEMER embedding, and a 13-d vector is a BAD_USER_INPUT naming 12.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import type { Dataset } from '../../src/datasets/types.js';
import { datasetWidths, resolveRules } from '../../src/domain/posts/feature-widths.js';
import { writeDataset } from '../../src/datasets/write.js';
import { createLogger } from '../../src/lib/logger.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { cli } from '../helpers/cli.js';

const VISUAL = 12;
const AUDIO = 5;
const ITEMS = 80;
const USERS = 60;

/** Deterministic numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Items, users and positives, every interaction at time 0; a user's taste follows the visual features' first column. */
function tinyDataset(visual = VISUAL): Dataset {
  const r = rng(7);
  const vis = Float32Array.from({ length: ITEMS * visual }, () => r() + 0.01);
  const aud = Float32Array.from({ length: ITEMS * AUDIO }, () => r() - 0.5);
  const user: number[] = [];
  const item: number[] = [];
  for (let u = 0; u < USERS; u++) {
    const likesHigh = u % 2 === 0;
    for (let i = 0; i < ITEMS; i++) {
      const high = vis[i * visual] > 0.5;
      if (r() < (high === likesHigh ? 0.5 : 0.1)) (user.push(u), item.push(i));
    }
  }
  const n = user.length;
  return {
    name: 'tiny',
    items: {
      ids: Array.from({ length: ITEMS }, (_, i) => `p${i}`),
      createdAt: new Float64Array(ITEMS),
      mediaType: new Uint8Array(ITEMS),
      tagNames: [],
      tagOffsets: new Int32Array(ITEMS + 1),
      tagIds: new Int32Array(0),
      text: Array.from({ length: ITEMS }, () => ''),
    },
    userIds: Array.from({ length: USERS }, (_, u) => `u${u}`),
    signals: ['interacted'],
    interactions: { length: n, user: Int32Array.from(user), item: Int32Array.from(item), signal: new Uint8Array(n), label: new Uint8Array(n).fill(1), time: new Float64Array(n) },
    features: { visual: { rows: ITEMS, dim: visual, dtype: 'float32', data: vis }, audio: { rows: ITEMS, dim: AUDIO, dtype: 'float32', data: aud } },
  };
}

test('widths: configured ones bind; else the active model, the stored posts, the fallback; a file pads to its widest media type', () => {
  const ds = tinyDataset();
  ds.items.mediaType[1] = 1; // one image, using 4 of the 12 visual columns and no audio
  (ds.features.visual!.data as Float32Array).fill(0, 1 * VISUAL + 4, 2 * VISUAL);
  (ds.features.audio!.data as Float32Array).fill(0, AUDIO, 2 * AUDIO);
  assert.deepEqual(datasetWidths(ds), { video: { visual: VISUAL, audio: AUDIO }, image: { visual: 4 } });

  const free = loadConfig({});
  assert.deepEqual(free.featuresConfigured, { video: false, image: false });
  const models = [{ version: 'm1', mediaType: 'VIDEO' as const, widths: { visual: 12 } }];
  const rules = resolveRules(free, models, { video: { visual: 99, audio: 5 }, image: {} }, { widths: free.features, origin: 'default' });
  assert.deepEqual(rules.features.video, { visual: 12, audio: 5, text: 100, aux: 3 });
  assert.deepEqual(rules.features.image, free.features.image);
  assert.match(rules.origin!.video!.visual!, /m1/);

  const fixed = loadConfig({ MEMER_FEATURES_VIDEO: 'visual=7' });
  assert.deepEqual(fixed.featuresConfigured, { video: true, image: false });
  assert.deepEqual(resolveRules(fixed, models, { video: {}, image: {} }, { widths: fixed.features, origin: 'default' }).features.video, { visual: 7 });
  assert.deepEqual(loadConfig({}, { features: fixed.features }).featuresConfigured, { video: true, image: true });
});

describe('non-paper feature widths from a dataset folder to a served model, nothing configured', () => {
  let dir: string;
  let app: RunningApp;
  let key: string;
  const saved = { ...process.env };
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(app.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: any; errors?: { message: string; extensions: Record<string, unknown> }[] };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'memer-dims-'));
    for (const name of ['MEMER_FEATURES_VIDEO', 'MEMER_FEATURES_IMAGE', 'MEMER_CONFIG']) delete process.env[name];
    Object.assign(process.env, { DATABASE_URL: `file:${join(dir, 'memer.db')}`, MEMER_MODEL_DIR: join(dir, 'models'), LOG_LEVEL: 'error' });
    await writeDataset(join(dir, 'data'), tinyDataset());
    await writeDataset(join(dir, 'wider'), { ...tinyDataset(VISUAL + 1), items: { ...tinyDataset().items, ids: Array.from({ length: ITEMS }, (_, i) => `q${i}`) } });
  });
  after(async () => {
    await app?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  test('memer import takes the widths from the data and memer train records them, warning that every time is equal', async () => {
    const imp = await cli('import', join(dir, 'data'), '--json');
    assert.equal(imp.code, 0, imp.err);
    assert.equal(JSON.parse(imp.out).posts.created, ITEMS);

    const train = await cli('train', '--epochs', '2', '--threads', '1', '--activate', '--json');
    assert.equal(train.code, 0, train.err);
    const summary = JSON.parse(train.out) as { versions: { kind: string; mediaType: string; metrics: { featureWidths: Record<string, number> } }[]; warnings: string[]; skipped: unknown[]; activated: unknown[] };
    const memer = summary.versions.find((v) => v.kind === 'MEMER');
    assert.ok(memer, `no MEMER model: ${JSON.stringify(summary.skipped)}`);
    assert.equal(memer.mediaType, 'VIDEO');
    assert.deepEqual(memer.metrics.featureWidths, { visual: VISUAL, audio: AUDIO });
    assert.equal(summary.activated.length, 1);
    assert.match(train.err, /warning: every interaction has the same time/);
    assert.equal(summary.warnings.length, 1);

    // Another folder with 13-d visual features no longer fits this database: stopped before anything is written.
    const wider = await cli('import', join(dir, 'wider'));
    assert.equal(wider.code, 3);
    assert.match(wider.err, /visual features of a VIDEO post must have 12 values, got 13 \(the width active model .* was trained on\)/);
  });

  test('the server accepts 12-d visual features, embeds the post with MEMER, and names the width for 13', async () => {
    app = await startApp(loadConfig(process.env, { port: 0 }), createLogger('error', () => undefined));
    key = (await app.services.keys.create(['write'], 'test')).key;
    const REGISTER = 'mutation($i: RegisterPostInput!) { registerPost(input: $i) { id servingSources { signal source } } }';
    const vec = (n: number, s: number) => Array.from({ length: n }, (_, i) => Math.round((Math.sin(s + i) + 1) * 500) / 1000);

    const ok = await gql(REGISTER, { i: { id: 'new-1', mediaType: 'VIDEO', features: { visual: vec(VISUAL, 1), audio: vec(AUDIO, 2) } } });
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    const source = (data: any) => data.registerPost.servingSources.find((x: { signal: string }) => x.signal === 'interacted').source;
    assert.equal(source(ok.data), 'MEMER');
    const emb = await gql('{ post(id: "new-1") { embedding(signal: "interacted") { source vector } } }');
    assert.equal(emb.data.post.embedding.source, 'MEMER');
    assert.equal(emb.data.post.embedding.vector.length, 33, "the default (hybrid) backbone serves k + 1 = 33: [q, b] for posts, [p, 1] for users");
    // Visual alone is enough for the model.
    const visualOnly = await gql(REGISTER, { i: { id: 'new-2', mediaType: 'VIDEO', features: { visual: vec(VISUAL, 3) } } });
    assert.equal(source(visualOnly.data), 'MEMER');

    const bad = await gql(REGISTER, { i: { id: 'new-3', mediaType: 'VIDEO', features: { visual: vec(VISUAL + 1, 4) } } });
    assert.equal(bad.data, null);
    const e = bad.errors![0];
    assert.equal(e.extensions.code, 'BAD_USER_INPUT');
    assert.equal(e.extensions.path, 'input.features.visual');
    assert.equal(e.extensions.expected, VISUAL);
    assert.match(e.message, /visual features of a VIDEO post must have 12 values, got 13/);
    const badAudio = await gql(REGISTER, { i: { id: 'new-4', mediaType: 'VIDEO', features: { visual: vec(VISUAL, 5), audio: vec(128, 6) } } });
    assert.equal(badAudio.errors![0].extensions.code, 'BAD_USER_INPUT');
    assert.match(badAudio.errors![0].message, /must have 5 values, got 128/);
    assert.equal((await gql('{ post(id: "new-3") { id } }')).data.post, null);
  });
});
