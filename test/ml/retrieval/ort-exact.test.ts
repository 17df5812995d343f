/** Exact search through onnxruntime equals the JS scan: single, batched, both matrix placements, filters. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { OrtExactSearch } from '../../../src/ml/retrieval/ort-exact.js';
import { randomVectors } from '../../../src/ml/retrieval/synthetic.js';
import { topK } from '../../../src/ml/retrieval/topk.js';
import { bruteForce, integerMatrix } from './helpers.js';

const runtime = new OnnxRuntime({ intraOpThreads: 1 });

test('integer vectors (exact dot products, many ties): ORT rows equal JS rows, for both placements and batches', async () => {
  const n = 3000;
  const dim = 8;
  const m = integerMatrix(n, dim, 4);
  const queries = integerMatrix(5, dim, 5);
  for (const placement of ['input', 'initializer'] as const) {
    const s = await OrtExactSearch.create(runtime, m, n, dim, placement);
    const batch = await s.searchBatch(queries, 40);
    for (let q = 0; q < 5; q++) {
      const query = queries.slice(q * dim, (q + 1) * dim);
      const js = topK(m, n, dim, query, 40);
      const one = await s.search(query, 40);
      assert.deepEqual([...one.rows], [...js.rows], `${placement} query ${q}`);
      assert.deepEqual([...one.scores], [...js.scores]);
      assert.deepEqual([...batch[q].rows], [...js.rows]);
    }
    await s.dispose();
  }
});

test('float vectors: same rows as JS up to float32 rounding of near-ties; k > n returns all rows', async () => {
  const n = 5000;
  const dim = 32;
  const m = randomVectors(n, dim, 1);
  const s = await OrtExactSearch.create(runtime, m, n, dim);
  const q = randomVectors(1, dim, 2);
  const js = topK(m, n, dim, q, 50);
  const ort = await s.search(q, 50);
  for (let i = 0; i < 50; i++) {
    assert.ok(Math.abs(ort.scores[i] - js.scores[i]) < 1e-4 * (1 + Math.abs(js.scores[i])), `score ${i}`);
    if (ort.rows[i] !== js.rows[i]) assert.ok(Math.abs(js.scores[i] - js.scores[i + 1 < 50 ? i + 1 : i - 1]) < 1e-4, `row ${i} differs without a near-tie`);
  }
  const small = await OrtExactSearch.create(runtime, m, 7, dim);
  assert.deepEqual([...(await small.search(q, 50)).rows], bruteForce(m, 7, dim, q).rows);
  await s.dispose();
  await small.dispose();
});

test('filters: exclude (over-fetch), a selective predicate (falls back to a mask), a caller bias; setItems sees growth', async () => {
  const n = 2000;
  const dim = 6;
  const m = integerMatrix(n, dim, 11);
  const q = Float32Array.of(1, 2, -1, 0, 1, 1);
  const s = await OrtExactSearch.create(runtime, m, n, dim);
  const want = bruteForce(m, n, dim, q);
  const exclude = new Set(want.rows.slice(0, 15));
  assert.deepEqual([...(await s.search(q, 10, { exclude })).rows], want.rows.filter((r) => !exclude.has(r)).slice(0, 10));
  const rare = (r: number) => r % 97 === 3; // 21 rows: over-fetching 4k is not enough
  assert.deepEqual([...(await s.search(q, 10, { accept: rare })).rows], bruteForce(m, n, dim, q, rare).rows.slice(0, 10));
  assert.deepEqual([...(await s.search(q, 50, { accept: rare })).rows], bruteForce(m, n, dim, q, rare).rows); // fewer than k exist
  const bias = new Float32Array(n).map((_, r) => (r < 1000 ? -Infinity : 0));
  assert.deepEqual([...(await s.search(q, 10, { bias })).rows], bruteForce(m, n, dim, q, (r) => r >= 1000).rows.slice(0, 10));
  const grown = integerMatrix(n + 500, dim, 12);
  s.setItems(grown, n + 500);
  assert.deepEqual([...(await s.search(q, 10)).rows], bruteForce(grown, n + 500, dim, q).rows.slice(0, 10));
  // views that do not start at their buffer's start (queries and matrix) are read at their offset
  const queries = Float32Array.of(9, 9, 9, 9, 9, 9, ...q);
  assert.deepEqual([...(await s.search(queries.subarray(dim), 10)).rows], bruteForce(grown, n + 500, dim, q).rows.slice(0, 10));
  s.setItems(grown.subarray(dim * 100), 400);
  assert.deepEqual([...(await s.search(q, 10)).rows], bruteForce(grown.subarray(dim * 100), 400, dim, q).rows.slice(0, 10));
  await s.dispose();
});
