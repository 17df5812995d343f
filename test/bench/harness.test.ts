import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuAvailability, percentile } from '../../src/bench/harness.js';

test('cpuAvailability times the loop on one thread and on two at once', async () => {
  const [single, speedup] = await cpuAvailability(3);
  assert.equal(single.unit, 'ms');
  assert.ok(single.value > 0 && Number.isFinite(single.value), `one thread: ${single.value} ms`);
  // No range: the suite runs test files in parallel, so the machine this measures is busy and changing.
  assert.equal(speedup.unit, 'x');
  assert.ok(speedup.value > 0 && Number.isFinite(speedup.value), `speedup ${speedup.value}`);
  assert.deepEqual(speedup.baseline, { name: 'two cores fully available', value: 2 });
});

test('percentile is the nearest rank', () => {
  const xs = [5, 1, 4, 2, 3];
  assert.equal(percentile(xs, 50), 3);
  assert.equal(percentile(xs, 100), 5);
  assert.equal(percentile(xs, 1), 1);
  assert.ok(Number.isNaN(percentile([], 50)));
});
