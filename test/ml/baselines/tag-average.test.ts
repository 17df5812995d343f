/**
 * The one TAG_AVG / GLOBAL_AVG definition (src/ml/baselines/tag-average.ts) that serving and the evaluation share:
 * reference values worked by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TagAverageBuilder, tagAverageOf } from '../../../src/ml/baselines/tag-average.js';

test('global and per-tag means; a tag counts once per post; a post gets the mean of its known tags', () => {
  const b = new TagAverageBuilder<string>(2);
  b.add([1, 0], ['a', 'a']);
  b.add([3, 2], ['a', 'b']);
  b.add([0, 4], []);
  const avg = b.result();
  assert.deepEqual([...avg.global!], [Math.fround(4 / 3), 2], "float32, summed in float64");
  assert.equal(avg.posts, 3);
  assert.deepEqual([...avg.byTag.get('a')!], [2, 1], 'post 1 counts once for a');
  assert.deepEqual([...avg.byTag.get('b')!], [3, 2]);
  assert.deepEqual([...tagAverageOf(avg, ['a', 'b', 'unknown'])!], [2.5, 1.5], 'unknown tags are skipped');
  assert.deepEqual([...tagAverageOf(avg, ['b', 'b'])!], [3, 2]);
  assert.equal(tagAverageOf(avg, ['unknown']), null, 'no known tag: no TAG_AVG (the caller falls back to GLOBAL_AVG)');
});

test('vectors read at an offset (a row of a matrix); no reference post: no global average', () => {
  const b = new TagAverageBuilder<number>(2);
  b.add(Float32Array.of(9, 9, 1, 2), [7], 2);
  assert.deepEqual([...b.result().byTag.get(7)!], [1, 2]);
  assert.equal(new TagAverageBuilder<number>(3).result().global, null);
});
