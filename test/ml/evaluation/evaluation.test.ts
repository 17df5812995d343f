/**
 * The evaluation's moving parts on a tiny platform: the time split holds out only test-post interactions, the cvar
 * split's warm sets, the warm-up step, hashed text features, metrics on known scores, both protocols end to end
 * through the CLI (JSON shape, HTML report), and usage errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { readDataset } from '../../../src/datasets/read.js';
import { simulate } from '../../../src/datasets/simulator/index.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { cvarSplit, hashedTextFeatures, modalitySubsets, timeSplit, warmUp, type EvaluationReport } from '../../../src/ml/evaluation/index.js';
import { bootstrapRelaImpr, evalRows, knownPositives, metricsOf, relaImprOf, type EvalRows } from '../../../src/ml/evaluation/scoring.js';

let dir = '';
let ds: Dataset;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memer-evaluation-'));
  await simulate(join(dir, 'data'), { seed: 5, users: 150, posts: 600, interactions: 50_000, dims: { videoVisual: 8, imageVisual: 10, audio: 4, text: 4 }, rates: { click: 0.3, likeGivenClick: 0.5 }, writeLatent: false });
  ds = await readDataset(join(dir, 'data'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('time split: posts by creation time; only test-post interactions are held out, about the asked share', () => {
  const s = timeSplit(ds, 33 / 40, 0.5, 1);
  const t = ds.interactions;
  assert.equal(s.fit.length + s.heldOut.length, t.length);
  for (let i = 0; i < ds.items.ids.length; i++) assert.equal(s.trainItems[i], ds.items.createdAt[i] < s.cutoff ? 1 : 0);
  let testRows = 0;
  for (let i = 0; i < t.length; i++) testRows += s.trainItems[t.item[i]] ? 0 : 1;
  for (const i of s.heldOut) assert.equal(s.trainItems[t.item[i]], 0, 'a held-out row belongs to a test post');
  const share = s.heldOut.length / testRows;
  assert.ok(Math.abs(share - 0.5) < 5 * Math.sqrt(0.25 / testRows), `held-out share ${share}`);
  assert.deepEqual(timeSplit(ds, 33 / 40, 0.5, 1).heldOut, s.heldOut, 'deterministic for a seed');
});

test('cvar split: old items > H, warm sets of n rows per new item in time order, the rest is test', () => {
  const s = ds.signals.indexOf('click');
  const H = 40, n = 5;
  const { old, isNew, sets } = cvarSplit(ds, s, H, n);
  const t = ds.interactions;
  const per = new Map<number, number[][]>();
  sets.forEach((set, k) => {
    for (const i of set) {
      assert.equal(t.signal[i], s);
      assert.equal(isNew[t.item[i]], 1);
      assert.equal(old[t.item[i]], 0);
      const p = per.get(t.item[i]) ?? [[], [], [], []];
      p[k].push(t.time[i]);
      per.set(t.item[i], p);
    }
  });
  assert.ok(per.size > 0);
  for (const [, p] of per) {
    assert.deepEqual(p.slice(0, 3).map((x) => x.length), [n, n, n]);
    assert.ok(p[3].length >= 1);
    for (let k = 0; k < 3; k++) assert.ok(Math.max(...p[k]) <= Math.min(...p[k + 1]), 'warm sets precede the later sets in time');
  }
});

test('warm-up: one SGD pass lowers the log loss of its rows; only post rows change', () => {
  const d = 4;
  const users = Float32Array.from({ length: 3 * d }, (_, i) => Math.sin(i + 1));
  const posts = new Float32Array(2 * d);
  const rows: EvalRows = { length: 4, user: Int32Array.of(0, 1, 2, 0), post: Int32Array.of(0, 0, 1, 1), label: Uint8Array.of(1, 0, 1, 0), positives: 2, group: Int32Array.of(0, 0, 1, 1) };
  const loss = () => {
    let s = 0;
    for (let k = 0; k < rows.length; k++) {
      let z = 0;
      for (let j = 0; j < d; j++) z += users[rows.user[k] * d + j] * posts[rows.post[k] * d + j];
      const p = 1 / (1 + Math.exp(-0.5 * z));
      s -= rows.label[k] ? Math.log(p) : Math.log(1 - p);
    }
    return s;
  };
  const before = loss();
  const u0 = Float32Array.from(users);
  warmUp(rows, users, posts, d, 0.5, 0.5);
  assert.ok(loss() < before, `${loss()} < ${before}`);
  assert.deepEqual(users, u0);
});

test('metrics: break-even F1 and AUC on known scores; modality subsets', () => {
  const m = metricsOf(Float64Array.of(0.9, 0.8, 0.3, 0.2, 0.1), Uint8Array.of(1, 0, 1, 0, 0));
  assert.equal(m.auc, 5 / 6);
  assert.equal(m.f1Threshold, 0.8);
  assert.equal(m.f1, 0.5);
  const subsets = modalitySubsets([{ modality: 'visual', dim: 2 }, { modality: 'audio', dim: 1 }, { modality: 'text', dim: 1 }, { modality: 'aux', dim: 1 }]);
  assert.deepEqual(subsets.map((s) => s.map((x) => x.modality).join('+')), ['visual', 'visual+audio', 'visual+text', 'visual+audio+text+aux']);
});

test('hashed text features: deterministic, unit norm, zero row without tokens', () => {
  const a = hashedTextFeatures(ds, 16);
  const b = hashedTextFeatures(ds, 16);
  assert.deepEqual(a.data, b.data);
  const x = a.data as Float32Array;
  let norm = 0;
  for (let k = 0; k < 16; k++) norm += x[k] ** 2;
  assert.ok(Math.abs(norm - 1) < 1e-5);
  const empty = hashedTextFeatures({ ...ds, items: { ...ds.items, text: ds.items.text.map(() => ''), tagOffsets: new Int32Array(ds.items.ids.length + 1) } }, 16);
  assert.ok((empty.data as Float32Array).every((v) => v === 0));
});

test('memer evaluate (time protocol): JSON report and HTML report', { timeout: 120_000 }, async () => {
  const json = join(dir, 'eval.json');
  const html = join(dir, 'eval.html');
  const code = await main(['evaluate', join(dir, 'data'), '--json', json, '--report', html, '--signals', 'click,like', '--ablation', 'click', '--max-samples', '20000']);
  assert.equal(code, 0);
  const r = JSON.parse(readFileSync(json, 'utf8')) as EvaluationReport;
  assert.equal(r.protocol, 'time');
  assert.ok((r.dataset.testPosts as number) > 0 && (r.dataset.heldOutInteractions as number) > 0);
  assert.deepEqual(Object.keys(r.thresholds).sort(), ['click/image', 'click/video', 'like/image', 'like/video']);
  for (const k of ['read', 'ffm', 'maturity', 'memer', 'ablation', 'scoring', 'total']) assert.ok(typeof r.timings[k] === 'number', k);
  const methods = new Set(r.results.filter((x) => x.signal === 'click').map((x) => `${x.method}:${x.modalities.join('+')}`));
  for (const m of ['RANDOM:', 'GLOBAL_AVG:', 'TAG_AVG:', 'MATURE:', 'MEMER:visual', 'MEMER:visual+audio+text+aux']) assert.ok(methods.has(m), m);
  for (const x of r.results) {
    assert.ok(x.auc >= 0 && x.auc <= 1 && x.n > 0 && x.positives > 0, JSON.stringify(x));
    if (x.method === 'MATURE') assert.equal(x.relaImpr, 100);
  }
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<table>/);
  assert.ok((page.match(/<svg /g) ?? []).length >= 3, 'maturity curves, AUC bars and per-tag bars');
});

test('memer evaluate --protocol cvar: cold and warm phases', { timeout: 120_000 }, async () => {
  const json = join(dir, 'cvar.json');
  const code = await main(['evaluate', join(dir, 'data'), '--protocol', 'cvar', '--signals', 'click', '--cvar-h', '60', '--cvar-n', '5', '--ablation', 'none', '--json', json]);
  assert.equal(code, 0);
  const r = JSON.parse(readFileSync(json, 'utf8')) as EvaluationReport;
  assert.equal(r.protocol, 'cvar');
  assert.deepEqual([...new Set(r.results.map((x) => x.phase))], ['cold', 'warm-a', 'warm-b', 'warm-c']);
  assert.ok(r.results.every((x) => x.relaImpr === null && x.method !== 'MATURE'));
});

test('memer evaluate --min-threshold and --maturity-compare reach the maturity estimate', { timeout: 120_000 }, async () => {
  const json = join(dir, 'floor.json');
  const args = ['evaluate', join(dir, 'data'), '--signals', 'click', '--ablation', 'none', '--max-samples', '5000', '--json', json];
  assert.equal(await main([...args, '--min-threshold', '25', '--maturity-compare', 'doubling']), 0);
  const r = JSON.parse(readFileSync(json, 'utf8')) as EvaluationReport;
  for (const [k, t] of Object.entries(r.thresholds)) assert.ok((t as { M: number }).M >= 25, `${k}: ${JSON.stringify(t)}`);
});

test('usage errors exit 2; a missing folder exits 4 (not found, as in memer dataset info)', async () => {
  assert.equal(await main(['evaluate', join(dir, 'data'), '--maturity-compare', 'sideways']), 2);
  assert.equal(await main(['evaluate', join(dir, 'data'), '--min-threshold', '2.5']), 2);
  assert.equal(await main(['evaluate']), 2);
  assert.equal(await main(['evaluate', join(dir, 'data'), '--protocol', 'nope']), 2);
  assert.equal(await main(['evaluate', join(dir, 'data'), '--held-out', 'x']), 2);
  assert.equal(await main(['evaluate', join(dir, 'missing')]), 4);
  assert.ok(!existsSync(join(dir, 'missing')));
});

test('eval rows: a sampled negative is never a post the user has a positive for in the signal; group = the positive\'s post', () => {
  const s = ds.signals.indexOf('like');
  const t = ds.interactions;
  const like: number[] = [];
  for (let i = 0; i < t.length; i++) if (t.signal[i] === s) like.push(i);
  const idx = Int32Array.from(like.slice(0, 3000));
  const known = knownPositives(ds, 'like');
  const count = (rows: EvalRows) => {
    let neg = 0, falseNeg = 0;
    for (let r = 0; r < rows.length; r++) {
      if (rows.label[r] === 1) {
        assert.equal(rows.group[r], rows.post[r]);
        continue;
      }
      assert.equal(rows.group[r], rows.group[r - 1], 'a negative follows its positive');
      assert.notEqual(rows.post[r], rows.group[r]);
      neg++;
      if (known(rows.user[r], rows.post[r])) falseNeg++;
    }
    return { neg, falseNeg };
  };
  const strict = count(evalRows(ds, 'like', idx, {}, 3)!);
  const loose = count(evalRows(ds, 'like', idx, {}, 3, false)!);
  assert.equal(strict.falseNeg, 0);
  assert.ok(loose.falseNeg > 0, 'without the exclusion some sampled negatives are the user\'s own positives');
  assert.ok(strict.neg > 0.95 * idx.length, `${strict.neg} negatives for ${idx.length} positives`);
  // knownPositives answers from the whole log.
  for (let i = 0; i < 200; i++) if (t.signal[i] === s) assert.ok(known(t.user[i], t.item[i]));
});

test('bootstrap interval of RelaImpr: deterministic, brackets the estimate, degenerate cases', () => {
  // 60 posts x 10 rows; mature = signal + noise, model = weaker signal + noise.
  const G = 60, per = 10, n = G * per;
  let x = 12345;
  const noise = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  const label = Uint8Array.from({ length: n }, (_, r) => (r % 2 === 0 ? 1 : 0));
  const group = Int32Array.from({ length: n }, (_, r) => Math.floor(r / per));
  const rows: EvalRows = { length: n, user: new Int32Array(n), post: group, label, positives: n / 2, group };
  const mature = Float64Array.from(label, (y) => y * 0.6 + noise());
  const model = Float64Array.from(label, (y) => y * 0.4 + noise());
  const ci = bootstrapRelaImpr(model, mature, rows, 0.95, 300, 5)!;
  const point = relaImprOf(metricsOf(model, label).auc, metricsOf(mature, label).auc)!;
  assert.ok(ci[0] < point && point < ci[1], `${ci} around ${point}`);
  assert.ok(ci[1] - ci[0] < 60, `width ${ci[1] - ci[0]}`);
  assert.deepEqual(bootstrapRelaImpr(model, mature, rows, 0.95, 300, 5), ci);
  assert.deepEqual(bootstrapRelaImpr(mature, mature, rows, 0.95, 50, 5), [100, 100], 'the reference against itself');
  const flat = new Float64Array(n);
  assert.deepEqual(bootstrapRelaImpr(model, flat, rows, 0.95, 50, 5), [-Infinity, -Infinity], 'no mature lift: undefined');
  assert.equal(bootstrapRelaImpr(model, mature, { ...rows, group: new Int32Array(n) }), null, 'one post');
});
