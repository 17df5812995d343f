/**
 * The item-cold protocol on a platform without timestamps: the split holds out whole posts, the time protocol refuses
 * the data with a message, item-cold scores every method with GAUC, comparisons and verdicts, and a given split file
 * is honoured.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { readDataset } from '../../../src/datasets/read.js';
import { simulate } from '../../../src/datasets/simulator/index.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { writeDataset } from '../../../src/datasets/write.js';
import { EvaluationError, evaluateTime, itemColdSplit, type EvaluationReport } from '../../../src/ml/evaluation/index.js';

let dir = '';
let ds: Dataset;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memer-item-cold-'));
  await simulate(join(dir, 'sim'), { seed: 8, users: 150, posts: 500, interactions: 40_000, dims: { videoVisual: 8, imageVisual: 10, audio: 4, text: 4 }, rates: { click: 0.3, likeGivenClick: 0.5 }, writeLatent: false });
  const sim = await readDataset(join(dir, 'sim'));
  // The same platform with every time equal: what a dataset without timestamps looks like after import.
  await writeDataset(join(dir, 'flat'), { ...sim, items: { ...sim.items, createdAt: sim.items.createdAt.map(() => 1.7e9) }, interactions: { ...sim.interactions, time: sim.interactions.time.map(() => 1.7e9) } });
  ds = await readDataset(join(dir, 'flat'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('item-cold split: a seeded share of the posts with an interaction; a given list by id; unknown ids refused', () => {
  const a = itemColdSplit(ds, 0.2, 1);
  assert.deepEqual(itemColdSplit(ds, 0.2, 1), a, 'deterministic for a seed');
  assert.notDeepEqual(itemColdSplit(ds, 0.2, 2), a);
  const seen = new Set(ds.interactions.item);
  assert.equal(a.reduce((x, v) => x + v, 0), Math.round(0.2 * seen.size));
  a.forEach((c, i) => assert.ok(!c || seen.has(i), 'only posts with an interaction are held out'));
  const given = itemColdSplit(ds, 0.2, 1, [ds.items.ids[3], ds.items.ids[7]]);
  assert.deepEqual([...given.keys()].filter((i) => given[i]), [3, 7]);
  assert.throws(() => itemColdSplit(ds, 0.2, 1, ['no-such-post']), (e: unknown) => e instanceof EvaluationError && e.code === 'BAD_SPLIT' && /no-such-post/.test(e.message));
});

test('the time protocol on a dataset without timestamps fails with a reason and a hint; the CLI exits 3', { timeout: 60_000 }, async () => {
  await assert.rejects(evaluateTime(ds, { pipeline: { signals: ['click'] } }), (e: unknown) => e instanceof EvaluationError && e.code === 'NO_ROWS' && /same creation time/.test(e.message) && /item-cold/.test(e.message));
  assert.equal(await main(['evaluate', join(dir, 'flat'), '--signals', 'click']), 3);
  assert.equal(await main(['evaluate', join(dir, 'flat'), '--protocol', 'cvar', '--signals', 'click', '--cvar-h', '100000', '--ablation', 'none']), 3, 'cvar without old items');
});

test('memer evaluate --protocol item-cold: GAUC, comparisons against all five baselines, verdicts; the split file is honoured', { timeout: 240_000 }, async () => {
  const json = join(dir, 'cold.json');
  const code = await main(['evaluate', join(dir, 'flat'), '--protocol', 'item-cold', '--signals', 'click', '--ablation', 'none', '--max-samples', '20000', '--bootstrap', '100', '--min-rows', '200', '--min-posts', '20', '--json', json]);
  assert.equal(code, 0);
  const r = JSON.parse(readFileSync(json, 'utf8')) as EvaluationReport;
  assert.equal(r.protocol, 'item-cold');
  assert.ok(r.results.length > 0 && r.results.every((x) => x.method !== 'MATURE' && x.relaImpr === null && x.phase === 'cold'));
  for (const x of r.results) assert.ok(x.gauc > 0 && x.gauc < 1 && x.users > 0 && x.posts > 0 && typeof x.insufficient === 'boolean', JSON.stringify(x));
  const baselines = new Set(r.comparisons.map((c) => c.baseline));
  assert.deepEqual([...baselines].sort(), ['GLOBAL_AVG', 'HYBRID_MF', 'RANDOM', 'RIDGE', 'TAG_AVG']);
  for (const c of r.comparisons) {
    assert.ok(c.method === 'MEMER' && (c.metric === 'gauc' || c.metric === 'auc'));
    assert.ok(c.ci[0] <= c.ci[1] && Number.isFinite(c.diff));
    assert.ok(c.insufficient ? c.verdict === null : ['win', 'loss', 'tie'].includes(c.verdict!), JSON.stringify(c));
  }
  for (const c of r.comparisons.filter((x) => !x.insufficient)) assert.equal(c.verdict, c.ci[0] > 0 ? 'win' : c.ci[1] < 0 ? 'loss' : 'tie');
  // The scored posts are the held-out ones, and a split file chooses them.
  const heldOut = ds.items.ids.filter((_, i) => i % 4 === 0);
  writeFileSync(join(dir, 'split.txt'), `item_id\n${heldOut.join('\n')}\n`);
  const json2 = join(dir, 'cold2.json');
  assert.equal(await main(['evaluate', join(dir, 'flat'), '--protocol', 'item-cold', '--held-out-split', join(dir, 'split.txt'), '--signals', 'click', '--ablation', 'none', '--baselines', 'paper', '--max-samples', '5000', '--bootstrap', '50', '--json', json2]), 0);
  const r2 = JSON.parse(readFileSync(json2, 'utf8')) as EvaluationReport;
  assert.equal(r2.dataset.heldOutPosts, heldOut.length);
  assert.ok(!r2.results.some((x) => x.method === 'RIDGE' || x.method === 'HYBRID_MF'));
  for (const x of r2.results) assert.equal(x.insufficient, x.n < 1000 || x.posts < 50, 'the defaults: 1000 rows, 50 posts');
  assert.equal(await main(['evaluate', join(dir, 'flat'), '--held-out-split', join(dir, 'split.txt')]), 2, 'a split file needs item-cold');
});
