/** Sessions on a worker thread (OnnxRuntime({ thread: true })): same results as in-thread, errors and exit reported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxRuntime } from '../../../src/ml/onnx/runtime.js';
import { ModelInputError } from '../../../src/ml/onnx/session.js';
import { rowsOf, tinyModel } from './tiny-model.js';

const feeds = (n: number) => ({ x: { data: rowsOf(n, 1), dims: [n, 3] }, t: { data: rowsOf(n, 2), dims: [n, 3] } });

test('a session on the thread gives exactly the in-thread results, with the same metadata and input checks', async () => {
  const [local, threaded] = [new OnnxRuntime({ intraOpThreads: 1 }), new OnnxRuntime({ intraOpThreads: 1, thread: true })];
  try {
    const [a, b] = await Promise.all([local.load('v1', tinyModel()), threaded.load('v1', tinyModel())]);
    assert.deepEqual(b.inputs, a.inputs);
    assert.deepEqual(b.outputs, a.outputs);
    assert.equal(b.metadata.purpose, 'test');
    for (const n of [1, 5]) {
      const [x, y] = await Promise.all([a.run(feeds(n)), b.run(feeds(n))]);
      assert.deepEqual(Object.keys(y).sort(), ['s', 'y']);
      for (const k of ['y', 's']) {
        assert.deepEqual([...y[k].dims], [...x[k].dims]);
        assert.deepEqual([...y[k].data], [...x[k].data]);
      }
    }
    // Concurrent runs each get their own answer.
    const many = await Promise.all([1, 2, 3, 4].map((n) => b.run(feeds(n), ['y'])));
    assert.deepEqual(many.map((r) => r.y.dims[0]), [1, 2, 3, 4]);
    // Bad feeds are refused before they cross threads, as in-thread.
    await assert.rejects(b.run({ x: feeds(2).x }), ModelInputError);
    // An error inside onnxruntime on the thread reaches the caller with the session's label.
    await assert.rejects(b.runUnchecked({ x: { data: rowsOf(2, 1), dims: [2, 3] } }), /v1: run failed with inputs x \[2, 3\]/);
  } finally {
    await local.dispose();
    await threaded.dispose();
  }
});

test('after the runtime is disposed, a kept session fails clearly instead of hanging', async () => {
  const rt = new OnnxRuntime({ intraOpThreads: 1, thread: true });
  const s = await rt.createSession(tinyModel(), 'kept');
  await rt.dispose();
  await assert.rejects(s.run(feeds(1)), /kept: run failed .*the session thread exited/);
});

test('with threadMinRows, smaller runs stay in the calling thread, larger ones go to the thread, and all stay here once it is gone', async () => {
  const [local, split] = [new OnnxRuntime({ intraOpThreads: 1 }), new OnnxRuntime({ intraOpThreads: 1, thread: true, threadMinRows: 3 })];
  const [a, b] = await Promise.all([local.createSession(tinyModel(), 'here'), split.createSession(tinyModel(), 'split')]);
  for (const n of [1, 2, 3, 6]) assert.deepEqual([...(await b.run(feeds(n))).y.data], [...(await a.run(feeds(n))).y.data]);
  assert.equal(split.threadRuns, 2); // the runs of 3 and 6 rows
  await split.dispose(); // closes the thread, not the sessions created outside the runtime's cache
  assert.deepEqual([...(await b.run(feeds(6))).y.data], [...(await a.run(feeds(6))).y.data]);
  await b.dispose();
  await local.dispose();
});

test('an idle session thread does not keep the process alive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'memer-thread-'));
  const src = (path: string) => JSON.stringify(new URL(path, import.meta.url).pathname);
  const script = join(dir, 'idle.mts');
  writeFileSync(
    script,
    `import { OnnxRuntime } from ${src('../../../src/ml/onnx/runtime.ts')};
    import { rowsOf, tinyModel } from ${src('./tiny-model.ts')};
    const s = await new OnnxRuntime({ thread: true }).createSession(tinyModel(), 'idle');
    const out = await s.run({ x: { data: rowsOf(1, 1), dims: [1, 3] }, t: { data: rowsOf(1, 2), dims: [1, 3] } });
    console.log('ran', out.y.dims.join('x'));`,
  );
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.signal, null, `the process did not exit by itself: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ran 1x2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
