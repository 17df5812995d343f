import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricValue, parseMix, schedule, slope } from '../../src/bench/soak.js';
import { BenchArgError } from '../../src/bench/harness.js';

test('slope is the least-squares slope', () => {
  assert.equal(slope([0, 1, 2, 3], [5, 7, 9, 11]), 2);
  assert.equal(slope([1, 2, 3], [4, 4, 4]), 0);
  // Noise around a line: the fit, not the endpoints.
  assert.ok(Math.abs(slope([0, 1, 2, 3, 4], [0, 1.2, 1.8, 3.1, 3.9]) - 0.97) < 1e-9);
  assert.ok(Number.isNaN(slope([1], [1])));
  assert.ok(Number.isNaN(slope([2, 2], [1, 3])));
});

test('metricValue reads an unlabelled sample from the Prometheus text format', () => {
  const text = [
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    'process_resident_memory_bytes 123456789',
    'nodejs_eventloop_lag_p99_seconds 0.0123',
    'nodejs_eventloop_lag_p99_seconds_extra 9',
    'nodejs_heap_space_size_used_bytes{space="new"} 42',
  ].join('\n');
  assert.equal(metricValue(text, 'process_resident_memory_bytes'), 123456789);
  assert.equal(metricValue(text, 'nodejs_eventloop_lag_p99_seconds'), 0.0123);
  assert.equal(metricValue(text, 'nodejs_heap_space_size_used_bytes'), null);
  assert.equal(metricValue(text, 'absent'), null);
});

test('schedule interleaves the mix evenly and parseMix checks it', () => {
  const mix = parseMix('upload:1,interactions:2,recommendations:4,post:3');
  const ops = schedule(mix, 100);
  const count = (op: string, xs = ops) => xs.filter((o) => o === op).length;
  assert.deepEqual([count('upload'), count('interactions'), count('recommendations'), count('post')], [10, 20, 40, 30]);
  // Every window of 10 has the same mix.
  for (let i = 0; i < 100; i += 10) assert.equal(count('recommendations', ops.slice(i, i + 10)), 4);
  assert.deepEqual(schedule(parseMix('post:1'), 3), ['post', 'post', 'post']);
  assert.throws(() => parseMix('upload:0'), BenchArgError);
  assert.throws(() => parseMix('delete:1'), BenchArgError);
  assert.throws(() => parseMix('post:-1'), BenchArgError);
});
