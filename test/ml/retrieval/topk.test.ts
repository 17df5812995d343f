/** Exact top-k against a brute-force sort: ties, k > n, k = 0, filters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topK } from '../../../src/ml/retrieval/topk.js';
import { bruteForce, integerMatrix } from './helpers.js';

test('topK equals a brute-force sort, ties broken towards the lower row', () => {
  const dim = 4;
  for (const [n, k] of [[1, 1], [7, 3], [200, 10], [200, 200], [513, 50]]) {
    const m = integerMatrix(n, dim, n);
    const q = Float32Array.from([1, -1, 2, 0]);
    const want = bruteForce(m, n, dim, q);
    const got = topK(m, n, dim, q, k);
    assert.deepEqual([...got.rows], want.rows.slice(0, k), `n=${n} k=${k}`);
    assert.deepEqual([...got.scores], want.scores.slice(0, k));
  }
  // every row ties: the first k rows come back in order
  const flat = new Float32Array(10 * 3).fill(1);
  assert.deepEqual([...topK(flat, 10, 3, Float32Array.of(1, 1, 1), 4).rows], [0, 1, 2, 3]);
});

test('k > n returns all n rows; k = 0 and n = 0 return nothing', () => {
  const m = integerMatrix(5, 3, 1);
  const q = Float32Array.of(1, 2, 3);
  assert.deepEqual([...topK(m, 5, 3, q, 50).rows], bruteForce(m, 5, 3, q).rows);
  assert.equal(topK(m, 5, 3, q, 0).rows.length, 0);
  assert.equal(topK(m, 0, 3, q, 5).rows.length, 0);
});

test('a filter skips rejected rows and can leave fewer than k', () => {
  const dim = 3;
  const m = integerMatrix(300, dim, 9);
  const q = Float32Array.of(2, -1, 1);
  const even = (r: number) => r % 2 === 0;
  assert.deepEqual([...topK(m, 300, dim, q, 20, even).rows], bruteForce(m, 300, dim, q, even).rows.slice(0, 20));
  const few = (r: number) => r < 5;
  assert.deepEqual([...topK(m, 300, dim, q, 20, few).rows], bruteForce(m, 300, dim, q, few).rows);
});
