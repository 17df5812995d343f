/**
 * Per-tag GAUC with intervals and the fairness summary (src/ml/evaluation/fairness.ts), on planted rows: on tag A's
 * posts MEMER ranks each user's positive first and TAG_AVG at random; on tag B the reverse. Tag A must be a judged
 * "better", tag B a judged "worse", a tiny tag unjudged, and the spread the sd of the two differences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fairnessOf, subsetRows, tagGauc } from '../../../src/ml/evaluation/fairness.js';
import type { EvalRows } from '../../../src/ml/evaluation/scoring.js';
import type { TagGain } from '../../../src/ml/evaluation/types.js';
import { Rng } from '../../../src/lib/random.js';

function planted(): { rows: EvalRows; memer: Float64Array; tag: Float64Array; byTag: Record<string, Int32Array> } {
  const rng = new Rng(3);
  const user: number[] = [], post: number[] = [], label: number[] = [], memer: number[] = [], tag: number[] = [];
  const byTag: Record<string, number[]> = { A: [], B: [], tiny: [] };
  let p = 0;
  const add = (t: string, posts: number, memerGood: boolean) => {
    for (let k = 0; k < posts; k++, p++) {
      for (let u = 0; u < 4; u++) {
        for (const y of [1, 0]) {
          byTag[t].push(user.length);
          user.push(u); post.push(p); label.push(y);
          const good = y + 0.3 * rng.gaussian();
          const noise = rng.gaussian();
          memer.push(memerGood ? good : noise);
          tag.push(memerGood ? noise : good);
        }
      }
    }
  };
  add('A', 60, true);
  add('B', 60, false);
  add('tiny', 3, true);
  const rows: EvalRows = { length: user.length, user: Int32Array.from(user), post: Int32Array.from(post), label: Uint8Array.from(label), positives: label.filter((y) => y).length, group: Int32Array.from(post) };
  return { rows, memer: Float64Array.from(memer), tag: Float64Array.from(tag), byTag: Object.fromEntries(Object.entries(byTag).map(([k, v]) => [k, Int32Array.from(v)])) };
}

test('per-tag GAUC, MEMER - TAG_AVG intervals and the fairness summary on planted tags', () => {
  const { rows, memer, tag, byTag } = planted();
  const o = { minRows: 1000, minPosts: 50, resamples: 200, seed: 1 };
  const methods = [{ method: 'TAG_AVG' as const, k: 0 }, { method: 'MEMER' as const, k: 1 }];
  const gains: TagGain[] = Object.entries(byTag).map(([t, subset]) => ({ signal: 'click', mediaType: 'video', tag: t, n: subset.length, auc: {}, ...tagGauc(rows, subset, [tag, memer], methods, 1, 0, o) }));
  const [a, b, tiny] = gains;
  assert.ok(a.gauc.MEMER! > 0.9 && Math.abs(a.gauc.TAG_AVG! - 0.5) < 0.15, JSON.stringify(a.gauc));
  assert.equal(a.gain!.verdict, 'win');
  assert.equal(b.gain!.verdict, 'loss');
  assert.ok(b.gain!.ci[1] < 0 && a.gain!.ci[0] > 0);
  assert.equal(tiny.gain!.verdict, null, '3 posts (24 rows) are too few to judge');
  assert.equal(subsetRows(rows, byTag.tiny).length, 24);
  const [f] = fairnessOf(gains);
  assert.deepEqual({ tags: f.tags, judged: f.judged, worse: f.worse, better: f.better }, { tags: 3, judged: 2, worse: 1, better: 1 });
  const d = [a.gain!.diff, b.gain!.diff];
  const mean = (d[0] + d[1]) / 2;
  assert.ok(Math.abs(f.spread - Math.sqrt((d[0] - mean) ** 2 + (d[1] - mean) ** 2)) < 1e-12);
  assert.equal(f.min, Math.min(...d));
});
