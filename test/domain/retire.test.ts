import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VectorStore } from '../../src/ml/retrieval/vector-store.js';
import { retireLater } from '../../src/domain/recommend/retire.js';

test('a retired store keeps answering searches until the grace period ends, then is disposed', async () => {
  const store = new VectorStore({ dim: 4 });
  store.upsert(1, Float32Array.of(1, 0, 0, 0), 0);
  store.upsert(2, Float32Array.of(0, 1, 0, 0), 0);
  let disposed = false;
  retireLater(async () => {
    disposed = true;
    await store.dispose();
  }, 50);
  // A search that started on the store right after it was replaced.
  const hits = await store.searchAsync(Float32Array.of(1, 0, 0, 0), 1);
  assert.equal(hits[0].key, 1);
  assert.equal(disposed, false);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(disposed, true);
});
