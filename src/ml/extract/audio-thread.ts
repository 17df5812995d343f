/**
 * The audio embedding (audio.ts) off the event loop: its log-mel front end is plain JavaScript, ~4 ms per second of
 * audio on one core (a 10-minute track: ~2.4 s), so clips longer than INLINE_SECONDS go to worker threads, each
 * embedding one clip at a time. Samples are transferred, not copied (the caller's array is detached afterwards).
 * Workers start on first use, are referenced only while they hold work, and one that dies fails only its own clip.
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../lib/workers.js';
import { AudioError, embedAudio, type AudioErrorCode, type AudioFeatures } from './audio.js';

/** Clips up to this long are embedded in the calling thread: a few milliseconds, less than a worker round trip. */
export const INLINE_SECONDS = 1;

export type AudioRequest = { id: number; samples: Float32Array };
export type AudioReply = { id: number; result: AudioFeatures } | { id: number; error: { code: AudioErrorCode | null; message: string } };

interface Job {
  samples: Float32Array;
  resolve: (r: AudioFeatures) => void;
  reject: (e: Error) => void;
}

export class AudioThreads {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private started = 0;
  private closed = false;

  constructor(readonly workers = 1) {
    if (!Number.isSafeInteger(workers) || workers < 1) throw new RangeError(`audio workers must be a positive integer, got ${workers}`);
  }

  /** The clip's audio feature (16 kHz mono). */
  embed(samples: Float32Array): Promise<AudioFeatures> {
    if (this.closed) return Promise.reject(new Error('the audio threads are closed'));
    if (samples.length <= INLINE_SECONDS * 16_000) {
      try {
        return Promise.resolve(embedAudio(samples));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ samples, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length) {
      const worker = this.idle.pop() ?? (this.started < this.workers ? this.spawn() : null);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      worker.ref();
      const request: AudioRequest = { id: 0, samples: job.samples };
      worker.postMessage(request, [job.samples.buffer as ArrayBuffer]);
    }
  }

  private spawn(): Worker {
    this.started++;
    const worker = spawnWorker(new URL('./audio-thread.worker.ts', import.meta.url), null);
    worker.unref();
    worker.on('message', (m: AudioReply) => {
      const job = this.busy.get(worker);
      if (!job) return;
      this.busy.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if ('error' in m) job.reject(m.error.code ? new AudioError(m.error.code, m.error.message) : new Error(m.error.message));
      else job.resolve(m.result);
      this.pump();
    });
    const gone = (why: string) => {
      this.started--;
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      job?.reject(new Error(`the audio worker exited (${why})`));
      if (!this.closed) this.pump();
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(`code ${code}`));
    return worker;
  }

  /** Stops the workers; queued and running clips fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the audio threads were closed'));
    await Promise.all([...this.idle, ...this.busy.keys()].map((w) => w.terminate()));
  }
}
