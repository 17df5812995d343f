/** The runtime module: input checks, load-once / retry, provider choice, micro-batching. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from '../../../src/ml/onnx/batcher.js';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { ModelInputError } from '../../../src/ml/onnx/session.js';
import { rowsOf, tinyModel } from './tiny-model.js';

test('run checks names and dims before running and reports shapes, not data', async () => {
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  const s = await rt.createSession(tinyModel(), 'tiny');
  assert.deepEqual(s.inputNames, ['x', 't']);
  assert.deepEqual(s.inputs[0].shape, ['N', 3]);
  assert.equal(s.metadata.purpose, 'test');
  const ok = await s.run({ x: { data: rowsOf(2, 1), dims: [2, 3] }, t: { data: rowsOf(2, 2), dims: [2, 3] } });
  assert.deepEqual([...ok.y.dims], [2, 2]);
  const cases: [Record<string, { data: Float32Array; dims: number[] }>, string, RegExp][] = [
    [{ x: { data: rowsOf(2, 1), dims: [2, 3] } }, 'MISSING_INPUT', /missing input "t" \[N, 3\]; got x \[2, 3\]/],
    [{ x: { data: rowsOf(2, 1), dims: [2, 3] }, t: { data: new Float32Array(8), dims: [2, 4] } }, 'BAD_SHAPE', /"t" dim 1 is 4, expected 3/],
    [{ x: { data: rowsOf(2, 1), dims: [2, 3] }, t: { data: rowsOf(3, 1), dims: [3, 3] } }, 'BAD_SHAPE', /dim 0 \(N\) is 3, but N = 2 elsewhere/],
    [{ x: { data: rowsOf(2, 1), dims: [2, 3] }, t: { data: new Float32Array(5), dims: [2, 3] } }, 'BAD_SHAPE', /has 5 values for dims \[2, 3\]/],
    [{ x: { data: rowsOf(1, 1), dims: [1, 3] }, t: { data: rowsOf(1, 1), dims: [1, 3] }, z: { data: new Float32Array(1), dims: [1] } }, 'UNKNOWN_INPUT', /unknown input "z"/],
  ];
  for (const [feeds, code, message] of cases) {
    await assert.rejects(s.run(feeds), (e: unknown) => {
      assert.ok(e instanceof ModelInputError);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /-5|0\.5/); // no data values
      return true;
    });
  }
  await s.dispose();
});

test('a model version loads once (concurrent callers share it); a failed load is forgotten and can be retried', async () => {
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  let calls = 0;
  const source = async () => {
    calls++;
    return tinyModel();
  };
  const [a, b] = await Promise.all([rt.load('v1', source), rt.load('v1', source)]);
  assert.equal(a, b);
  assert.equal(await rt.load('v1', source), a);
  assert.equal(calls, 1);
  assert.equal(rt.state('v1')?.status, 'ready');

  let fail = true;
  const flaky = async () => (fail ? new Uint8Array([1, 2, 3]) : tinyModel());
  await assert.rejects(rt.load('v2', flaky));
  assert.equal(rt.state('v2'), undefined, 'a failed load must not be cached');
  fail = false;
  const s = await rt.load('v2', flaky);
  assert.deepEqual(s.inputNames, ['x', 't']);
  await rt.dispose();
  assert.equal(rt.get('v1'), undefined);
});

test("provider 'auto' falls back to CPU with one log line when CUDA is not installed; 'cuda' fails with install advice", async (t) => {
  const cuda = OnnxRuntime.supportedBackends().find((b) => b.name === 'cuda');
  const lines: string[] = [];
  const rt = new OnnxRuntime({ provider: 'auto', intraOpThreads: 1, log: (l) => lines.push(l) });
  const s1 = await rt.createSession(tinyModel());
  const s2 = await rt.createSession(tinyModel());
  if (s1.provider === 'cuda') {
    t.diagnostic('CUDA provider present: fallback not exercised');
    return;
  }
  assert.equal(s2.provider, 'cpu');
  assert.equal(lines.length, 1);
  assert.match(lines[0], /auto -> cpu .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
  const strict = new OnnxRuntime({ provider: 'cuda', log: () => undefined });
  await assert.rejects(strict.createSession(tinyModel(), 'strict'), /cannot use provider cuda.*ONNXRUNTIME_NODE_INSTALL=cuda12/);
  assert.ok(cuda, 'onnxruntime-node lists the cuda backend');
  await Promise.all([s1.dispose(), s2.dispose()]);
});

test('micro-batcher: concurrent single-row requests share runs and get their own rows back', async () => {
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  const s = await rt.createSession(tinyModel());
  const batcher = new MicroBatcher(s, { maxBatch: 16 });
  const n = 40;
  const reqs = Array.from({ length: n }, (_, i) => ({ x: rowsOf(1, i), t: rowsOf(1, i + 3) }));
  const outs = await Promise.all(reqs.map((r) => batcher.submit(r)));
  assert.equal(batcher.stats.requests, n);
  assert.ok(batcher.stats.runs <= Math.ceil(n / 16) + 1, `runs ${batcher.stats.runs}`);
  assert.ok(batcher.stats.runs >= Math.ceil(n / 16), 'maxBatch must bound the rows per run');
  for (let i = 0; i < n; i++) {
    const alone = await s.run({ x: { data: reqs[i].x, dims: [1, 3] }, t: { data: reqs[i].t, dims: [1, 3] } });
    assert.deepEqual([...outs[i].y], [...alone.y.data]);
    assert.deepEqual([...outs[i].s], [...alone.s.data]);
  }
  // A bad request is refused alone; others still run.
  assert.throws(() => batcher.submit({ x: rowsOf(1, 0), t: new Float32Array(2) }), (e: unknown) => e instanceof ModelInputError && e.code === 'BAD_SHAPE');
  const [good] = await Promise.all([batcher.submit({ x: rowsOf(1, 9), t: rowsOf(1, 9) })]);
  assert.equal(good.y.length, 2);
});

test('micro-batcher window: requests arriving within the window share one run; multi-row requests split correctly', async () => {
  const rt = new OnnxRuntime({ intraOpThreads: 1 });
  const s = await rt.createSession(tinyModel());
  const batcher = new MicroBatcher(s, { windowMs: 20, maxBatch: 64 });
  const p1 = batcher.submit({ x: rowsOf(2, 1), t: rowsOf(2, 2) }, 2);
  await new Promise((r) => setTimeout(r, 3));
  const p2 = batcher.submit({ x: rowsOf(1, 5), t: rowsOf(1, 6) });
  const [o1, o2] = await Promise.all([p1, p2]);
  assert.equal(batcher.stats.runs, 1);
  assert.equal(o1.y.length, 4);
  assert.equal(o2.y.length, 2);
  const alone = await s.run({ x: { data: rowsOf(2, 1), dims: [2, 3] }, t: { data: rowsOf(2, 2), dims: [2, 3] } });
  assert.deepEqual([...o1.y], [...alone.y.data]);
});
