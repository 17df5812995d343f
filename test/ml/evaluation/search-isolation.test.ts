/**
 * The hyper-parameter search never reads test rows (issue 16, "Done when"): an item-cold evaluation with a random
 * search, run twice on data that differ only in the held-out posts' interactions (users shuffled, labels flipped).
 * Everything chosen before scoring (the backbone, the search's trials and pick, MEMER's validation metrics) must be
 * identical; the test metrics must differ (so the scrambled rows are the ones scored).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../../../src/datasets/read.js';
import { simulate } from '../../../src/datasets/simulator/index.js';
import type { Dataset } from '../../../src/datasets/types.js';
import { evaluateItemCold, itemColdSplit } from '../../../src/ml/evaluation/index.js';
import { Rng } from '../../../src/lib/random.js';

let dir = '';
let ds: Dataset;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memer-search-'));
  await simulate(dir, { seed: 4, users: 150, posts: 500, interactions: 30_000, dims: { videoVisual: 8, imageVisual: 10, audio: 4, text: 4 }, rates: { click: 0.3, likeGivenClick: 0.5 }, writeLatent: false });
  ds = await readDataset(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('random search and model selection see no held-out row: scrambling the test posts\' interactions changes the scores only', { timeout: 300_000 }, async () => {
  const options = { ablation: false, strongBaselines: false, minRows: 0, minPosts: 0, resamples: 10, pipeline: { signals: ['click'], searchTrials: 3, minMaturePosts: 40, memer: { training: { maxEpochs: 3 } } } };
  const cold = itemColdSplit(ds, 0.2, 1);
  const t = ds.interactions;
  const rng = new Rng(99);
  const user = Int32Array.from(t.user);
  const label = Uint8Array.from(t.label);
  for (let i = 0; i < t.length; i++) {
    if (!cold[t.item[i]]) continue;
    user[i] = rng.int(ds.userIds.length);
    label[i] = 1 - label[i];
  }
  const scrambled: Dataset = { ...ds, interactions: { ...t, user, label } };
  const a = await evaluateItemCold(ds, options);
  const b = await evaluateItemCold(scrambled, options);
  assert.ok(a.memer.length > 0 && a.memer.every((m) => Array.isArray((m as { search?: unknown[] }).search) && (m as { search: unknown[] }).search.length === 3), 'every MEMER model was chosen by a 3-trial search');
  const chosen = (r: typeof a) => r.memer.map((m) => JSON.parse(JSON.stringify({ ...m, seconds: 0, search: (m as { search: { seconds: number }[] }).search.map((x) => ({ ...x, seconds: 0 })) })));
  assert.deepEqual(chosen(b), chosen(a), 'the search, its pick and the validation metrics do not depend on the held-out rows');
  assert.deepEqual(b.thresholds, a.thresholds);
  const memer = (r: typeof a) => r.results.filter((x) => x.method === 'MEMER').map((x) => x.gauc);
  assert.notDeepEqual(memer(b), memer(a), 'the scrambled rows are the scored ones');
});
