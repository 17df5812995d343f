/** The session thread (session-thread.ts): onnxruntime sessions by id, created, run and released on request. */
import { parentPort } from 'node:worker_threads';
import './telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { localBackend, type SessionBackend } from './session.js';
import type { ThreadReply, ThreadRequest } from './session-thread.js';

const sessions = new Map<number, SessionBackend>();

/** Metadata as plain data (what crosses threads). */
const plain = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
  list.map((m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }));

function session(id: number): SessionBackend {
  const s = sessions.get(id);
  if (!s) throw new Error(`no session ${id} on the session thread`);
  return s;
}

async function handle(m: ThreadRequest): Promise<unknown> {
  switch (m.op) {
    case 'open': {
      const inner = await ort.InferenceSession.create(m.bytes, m.options);
      sessions.set(m.id, localBackend(inner));
      return { inputs: plain(inner.inputMetadata), outputs: plain(inner.outputMetadata) };
    }
    case 'run':
      return session(m.id).run(m.feeds, m.outputs);
    case 'release':
      await session(m.id).release();
      sessions.delete(m.id);
      return null;
  }
}

parentPort!.on('message', (m: ThreadRequest) => {
  handle(m).then(
    (value) => parentPort!.postMessage({ call: m.call, value } satisfies ThreadReply),
    (err: unknown) => parentPort!.postMessage({ call: m.call, error: err instanceof Error ? err.message : String(err) } satisfies ThreadReply),
  );
});
