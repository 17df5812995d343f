import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { simulate, type SimulatorOverrides } from '../../src/datasets/simulator/index.js';
import { readDataset } from '../../src/datasets/read.js';
import { readNpy } from '../../src/datasets/npy.js';
import { featurePresence, featureRow } from '../../src/datasets/features.js';
import type { Dataset, FeatureMatrix } from '../../src/datasets/types.js';
import { auc } from '../../src/ml/metrics.js';

const root = mkdtempSync(join(tmpdir(), 'memer-sim-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** Small dims so the probes are quick; block sizes and rates are the defaults. */
const SMALL: SimulatorOverrides = { seed: 7, users: 2000, posts: 3000, interactions: 300_000, dims: { videoVisual: 160, imageVisual: 192, audio: 64, text: 100 } };

function digests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  (function walk(d: string) {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  })(dir);
  return out;
}

test('deterministic for a seed: byte-identical folders; another seed differs', async () => {
  const opts: SimulatorOverrides = { ...SMALL, posts: 400, users: 300, interactions: 20_000 };
  await simulate(join(root, 'a'), opts);
  await simulate(join(root, 'b'), opts);
  await simulate(join(root, 'c'), { ...opts, seed: 8 });
  await simulate(join(root, 'd'), { ...opts, dims: { videoVisual: 24, imageVisual: 24, audio: 8, text: 8 } });
  const a = digests(join(root, 'a'));
  assert.deepEqual(Object.keys(a), [
    'features/audio.npy', 'features/aux.npy', 'features/text.npy', 'features/visual.npy', 'interactions.csv', 'items.csv',
    'simulation/config.json', 'simulation/post_bias.npy', 'simulation/post_factors.npy', 'simulation/user_prefs.npy', 'users.csv',
  ]);
  assert.deepEqual(digests(join(root, 'b')), a);
  const c = digests(join(root, 'c'));
  assert.notEqual(c['interactions.csv'], a['interactions.csv']);
  assert.notEqual(c['features/visual.npy'], a['features/visual.npy']);
  // Stages use separate PRNG streams: other feature widths change the features, not the log.
  const d = digests(join(root, 'd'));
  assert.equal(d['interactions.csv'], a['interactions.csv']);
  assert.equal(d['items.csv'], a['items.csv']);
  assert.notEqual(d['features/visual.npy'], a['features/visual.npy']);
});

// One mid-sized run shared by the statistical checks below.
const dir = join(root, 'stats');
let data: Promise<{ d: Dataset; summary: Awaited<ReturnType<typeof simulate>> }> | undefined;
function run() {
  data ??= simulate(dir, SMALL).then(async (summary) => ({ summary, d: await readDataset(dir) }));
  return data;
}

test('rates match the paper-like targets within tolerance, counted from the written file', async () => {
  const { d, summary } = await run();
  assert.ok(Math.abs(d.interactions.length - 300_000) / 300_000 < 0.02, `${d.interactions.length} rows for a 300k target`);
  assert.equal(d.interactions.length, summary.interactions);
  const sig = Object.fromEntries(d.signals.map((s, i) => [s, i]));
  const rows = new Float64Array(d.signals.length);
  const pos = new Float64Array(d.signals.length);
  for (let i = 0; i < d.interactions.length; i++) {
    rows[d.interactions.signal[i]]++;
    pos[d.interactions.signal[i]] += d.interactions.label[i];
  }
  const impressions = rows[sig.click];
  const videoImpressions = rows[sig.video_play];
  const clicks = pos[sig.click];
  assert.equal(rows[sig.skip], videoImpressions, 'skip and video_play: one row per video impression');
  assert.equal(pos[sig.like], rows[sig.like], 'like rows are positives only');
  const within = (name: string, got: number, want: number, tol: number) => assert.ok(Math.abs(got - want) <= tol, `${name}: ${got.toFixed(4)} vs ${want} +- ${tol}`);
  within('click', clicks / impressions, 0.05, 0.004);
  within('like | click', pos[sig.like] / clicks, 0.1, 0.02);
  within('share | click', pos[sig.share] / clicks, 0.04, 0.012);
  within('favorite | click', pos[sig.favorite] / clicks, 0.06, 0.015);
  within('video_play', pos[sig.video_play] / videoImpressions, 0.25, 0.01);
  within('skip', pos[sig.skip] / videoImpressions, 0.15, 0.01);
  within('video share of posts', summary.posts.video / summary.posts.total, 0.6, 0.04);
  // No row both plays and skips.
  const seen = new Map<string, number>();
  for (let i = 0; i < d.interactions.length; i++) {
    const s = d.interactions.signal[i];
    if ((s === sig.video_play || s === sig.skip) && d.interactions.label[i] === 1) {
      const key = `${d.interactions.user[i]}:${d.interactions.item[i]}:${d.interactions.time[i]}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  }
  assert.ok([...seen.values()].every((n) => n === 1));
});

test('time: 40 days, rows in time order, never before the post exists', async () => {
  const { d } = await run();
  const t = d.interactions.time;
  const start = 1672531200;
  for (let i = 1; i < t.length; i++) assert.ok(t[i] >= t[i - 1]);
  assert.ok(t[0] >= start && t[t.length - 1] < start + 40 * 86400);
  for (let i = 0; i < t.length; i++) assert.ok(t[i] > d.items.createdAt[d.interactions.item[i]]);
  const days = new Set(Array.from(d.items.createdAt, (c) => Math.floor((c - start) / 86400)));
  assert.equal(days.size, 40);
});

test('skew: Zipf tag popularity, Zipf user activity, heavy-tailed views', async () => {
  const { d } = await run();
  const tagCount = new Float64Array(d.items.tagNames.length);
  for (const t of d.items.tagIds) tagCount[t]++;
  const sortedTags = Array.from(tagCount).sort((a, b) => b - a);
  assert.ok(sortedTags[0] > 10 * sortedTags[Math.floor(sortedTags.length / 2)], `top tag ${sortedTags[0]} vs median ${sortedTags[Math.floor(sortedTags.length / 2)]}`);
  const share = (counts: Float64Array, top: number) => {
    const s = Array.from(counts).sort((a, b) => b - a);
    return s.slice(0, top).reduce((a, b) => a + b, 0) / s.reduce((a, b) => a + b, 0);
  };
  const perUser = new Float64Array(d.userIds.length);
  const perPost = new Float64Array(d.items.ids.length);
  const click = d.signals.indexOf('click');
  for (let i = 0; i < d.interactions.length; i++) {
    if (d.interactions.signal[i] !== click) continue;
    perUser[d.interactions.user[i]]++;
    perPost[d.interactions.item[i]]++;
  }
  // Zipf(1) over 2000 users: the top 1% hold H(20)/H(2000) = 44% of impressions.
  assert.ok(share(perUser, 20) > 0.35, `top 1% users: ${share(perUser, 20)}`);
  assert.ok(share(perPost, 30) > 0.05, `top 1% posts: ${share(perPost, 30)}`);
});

test('missing modality: images have all-zero audio rows, visual rows are zero-padded to the wider extractor', async () => {
  const { d } = await run();
  const { visual, audio, text, aux } = d.features as Required<Dataset['features']>;
  assert.deepEqual([visual.dim, audio.dim, text.dim, aux.dim], [192, 64, 100, 3]);
  const isVideo = Array.from(d.items.mediaType, (m) => (m === 0 ? 1 : 0));
  assert.deepEqual(Array.from(featurePresence(audio)), isVideo);
  assert.ok(featurePresence(visual).every((p) => p === 1));
  assert.ok(featurePresence(text).every((p) => p === 1));
  const row = new Float32Array(visual.dim);
  for (let i = 0; i < 200; i++) {
    featureRow(visual, i, row);
    if (isVideo[i]) assert.ok(row.subarray(160).every((v) => v === 0));
    assert.ok(row.every((v) => v >= 0), 'visual features are non-negative (ReLU view)');
  }
});

/** Held-out R^2 of a ridge regression from X (n x p) to each column of Y (n x q), averaged over columns. */
function probeR2(X: Float64Array, p: number, Y: Float64Array, q: number, n: number, lambda = 10): number {
  const train = Math.floor(n * 0.7);
  const P = p + 1;
  const xtx = new Float64Array(P * P);
  const xty = new Float64Array(P * q);
  const xi = new Float64Array(P);
  for (let i = 0; i < train; i++) {
    xi.set(X.subarray(i * p, i * p + p));
    xi[p] = 1;
    for (let a = 0; a < P; a++) {
      if (xi[a] === 0) continue;
      for (let b = 0; b < P; b++) xtx[a * P + b] += xi[a] * xi[b];
      for (let c = 0; c < q; c++) xty[a * q + c] += xi[a] * Y[i * q + c];
    }
  }
  for (let a = 0; a < p; a++) xtx[a * P + a] += lambda;
  // Cholesky xtx = L L^T, then two triangular solves per target column.
  const L = new Float64Array(P * P);
  for (let i = 0; i < P; i++) {
    for (let j = 0; j <= i; j++) {
      let s = xtx[i * P + j];
      for (let k = 0; k < j; k++) s -= L[i * P + k] * L[j * P + k];
      L[i * P + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * P + j];
    }
  }
  let r2 = 0;
  for (let c = 0; c < q; c++) {
    const z = new Float64Array(P);
    for (let i = 0; i < P; i++) {
      let s = xty[i * q + c];
      for (let k = 0; k < i; k++) s -= L[i * P + k] * z[k];
      z[i] = s / L[i * P + i];
    }
    const w = new Float64Array(P);
    for (let i = P - 1; i >= 0; i--) {
      let s = z[i];
      for (let k = i + 1; k < P; k++) s -= L[k * P + i] * w[k];
      w[i] = s / L[i * P + i];
    }
    let mean = 0;
    for (let i = train; i < n; i++) mean += Y[i * q + c] / (n - train);
    let sse = 0;
    let sst = 0;
    for (let i = train; i < n; i++) {
      let pred = w[p];
      for (let a = 0; a < p; a++) pred += w[a] * X[i * p + a];
      sse += (pred - Y[i * q + c]) ** 2;
      sst += (Y[i * q + c] - mean) ** 2;
    }
    r2 += (1 - sse / sst) / q;
  }
  return r2;
}

test('each modality is informative about its own factor block and not about the others (linear probe)', async (t) => {
  const { d } = await run();
  const factors = (await readNpy(join(dir, 'simulation', 'post_factors.npy'))).data as Float32Array;
  const k = 16;
  const blocks = { shared: 0, visual: 4, audio: 8, text: 12 } as const;
  const videos = Array.from(d.items.mediaType.keys()).filter((i) => d.items.mediaType[i] === 0);
  const probe = (m: FeatureMatrix, width: number, block: keyof typeof blocks) => {
    const X = new Float64Array(videos.length * width);
    const Y = new Float64Array(videos.length * 4);
    const row = new Float32Array(m.dim);
    videos.forEach((item, r) => {
      featureRow(m, item, row);
      for (let a = 0; a < width; a++) X[r * width + a] = row[a];
      for (let c = 0; c < 4; c++) Y[r * 4 + c] = factors[item * k + blocks[block] + c];
    });
    return probeR2(X, width, Y, 4, videos.length);
  };
  const f = d.features as Required<Dataset['features']>;
  const views = { visual: [f.visual, 160], audio: [f.audio, 64], text: [f.text, 100] } as const;
  const report: string[] = [];
  for (const [name, [m, width]] of Object.entries(views)) {
    for (const block of ['shared', 'visual', 'audio', 'text'] as const) {
      const r2 = probe(m, width, block);
      report.push(`${name}->${block} ${r2.toFixed(2)}`);
      if (block === 'shared' || block === name) assert.ok(r2 > 0.4, `${name} features should reveal the ${block} block: R2 ${r2.toFixed(3)}`);
      else assert.ok(r2 < 0.1, `${name} features should not reveal the ${block} block: R2 ${r2.toFixed(3)}`);
    }
  }
  t.diagnostic(report.join(', '));
});

test('clicks follow the true affinity u.f (a factorisation model can learn it); negatives=none writes positives only', async () => {
  const { d } = await run();
  const f = (await readNpy(join(dir, 'simulation', 'post_factors.npy'))).data as Float32Array;
  const u = (await readNpy(join(dir, 'simulation', 'user_prefs.npy'))).data as Float32Array;
  const click = d.signals.indexOf('click');
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < d.interactions.length; i++) {
    if (d.interactions.signal[i] !== click) continue;
    let s = 0;
    for (let j = 0; j < 16; j++) s += u[d.interactions.user[i] * 16 + j] * f[d.interactions.item[i] * 16 + j];
    scores.push(s);
    labels.push(d.interactions.label[i]);
  }
  const a = auc(scores, labels);
  assert.ok(a > 0.7, `AUC of the true affinity on clicks: ${a}`);
  const pos = await simulate(join(root, 'positives'), { ...SMALL, interactions: 20_000, negatives: 'none' });
  const p = await readDataset(join(root, 'positives'), { features: false });
  assert.ok(p.interactions.label.every((l) => l === 1));
  assert.ok(Math.abs(pos.interactions - 20_000) < 1000, `${pos.interactions}`);
  assert.ok(pos.rates.click > 0.04 && pos.rates.click < 0.06);
});
