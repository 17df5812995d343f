import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchBody, bench, ingestParams } from '../../src/bench/ingest.js';
import { BenchArgError } from '../../src/bench/harness.js';

test('ingestParams reads the --set parameters and refuses bad ones', () => {
  const { providers, params } = ingestParams({ database: 'both', batch: '10', eventIds: '1', parts: 'api' });
  assert.deepEqual(providers, ['sqlite', 'postgresql']);
  assert.equal(params.batch, 10);
  assert.deepEqual(params.eventIds, [true]);
  assert.deepEqual([...params.parts], ['api']);
  assert.deepEqual(ingestParams({ database: 'postgres' }).providers, ['postgresql']);
  assert.throws(() => ingestParams({ database: 'mysql' }), BenchArgError);
  assert.throws(() => ingestParams({ eventIds: '2' }), BenchArgError);
  assert.throws(() => ingestParams({ parts: 'api,soak' }), BenchArgError);
  assert.throws(() => ingestParams({ batch: '0' }), BenchArgError);
});

test('batchBody is a recordInteractions request of `batch` elements, with eventIds when asked', () => {
  const body = JSON.parse(batchBody(3, { batch: 5, posts: 4, users: 3 }, 'x'));
  assert.match(body.query, /recordInteractions/);
  assert.equal(body.variables.i.length, 5);
  assert.equal(body.variables.i[0].eventId, 'x-15');
  assert.ok(body.variables.i.every((e: { postId: string }) => /^p[0-3]$/.test(e.postId)));
  assert.equal(JSON.parse(batchBody(0, { batch: 2, posts: 1, users: 1 }, null)).variables.i[0].eventId, undefined);
});

test('memer bench ingest (tiny, SQLite and PostgreSQL): every figure, with the raw baselines', { timeout: 240_000 }, async () => {
  const results = await bench.run({ database: 'both', batch: '50', total: '300', concurrency: '2', posts: '20', users: '30', importRows: '400', importItems: '40', importUsers: '10' }, () => {});
  const names = results.map((r) => r.name);
  for (const db of ['SQLite', 'PostgreSQL']) {
    for (const label of [`recordInteractions on ${db}`, `recordInteractions on ${db} with eventIds`]) {
      const rate = results.find((r) => r.name === `${label}: throughput`);
      assert.ok(rate, `${label}: throughput in ${names.join(', ')}`);
      assert.equal(rate.unit, 'interactions/s');
      assert.ok(rate.value > 0 && rate.baseline && rate.baseline.value > 0 && typeof rate.ratio === 'number');
      assert.ok(results.some((r) => r.name === `${label}: batch p50` && r.unit === 'ms'));
      assert.ok(results.some((r) => r.name === `${label}: batch p99` && r.unit === 'ms'));
    }
    const imp = results.find((r) => r.name === `memer import on ${db}: throughput`);
    assert.ok(imp && imp.value > 0 && imp.baseline);
  }
  assert.ok(results.some((r) => r.name.startsWith('raw SQLite')));
  assert.ok(results.some((r) => r.name.startsWith('raw PostgreSQL: COPY')));
  assert.ok(results.some((r) => r.name.startsWith('raw PostgreSQL: multi-row INSERT')));
  // The report serialises as `memer bench --json` prints it.
  assert.doesNotThrow(() => JSON.parse(JSON.stringify({ bench: 'ingest', results })));
});
