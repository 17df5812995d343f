/** A worker of audio-thread.ts: embeds one clip per message. */
import { parentPort } from 'node:worker_threads';
import { AudioError, embedAudio } from './audio.js';
import type { AudioReply, AudioRequest } from './audio-thread.js';

parentPort!.on('message', (m: AudioRequest) => {
  let reply: AudioReply;
  try {
    reply = { id: m.id, result: embedAudio(m.samples) };
  } catch (err) {
    reply = { id: m.id, error: { code: err instanceof AudioError ? err.code : null, message: err instanceof Error ? err.message : String(err) } };
  }
  parentPort!.postMessage(reply, 'result' in reply ? [reply.result.vector.buffer as ArrayBuffer] : []);
});
