/**
 * FFM training: libffm's epoch loop (AdaGrad SGD over shuffled rows, validation log loss after each epoch, early
 * stopping that restores the best epoch), on the calling thread or on worker threads that update one shared weight
 * array without locks (Hogwild, Niu et al. 2011).
 */
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../../lib/workers.js';
import { Rng } from '../../lib/random.js';
import { gatherRows, isShared, validateFfmData, type FfmData } from './data.js';
import { FfmError } from './errors.js';
import { epochBlockOrder, trainBlocks } from './kernel.js';
import { biasBaseOf, initWeights, meanLogLoss, type EpochRecord, type FfmModel } from './model.js';
import { ffmParams, type FfmParams } from './params.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

/** Rows per scheduling block (see trainBlocks): large enough for sequential reads, small enough to mix well. */
export const BLOCK_SIZE = 1024;

export interface TrainOptions {
  params?: Partial<FfmParams>;
  /** Held-out rows for early stopping; without them every epoch runs and the last one is kept. */
  validation?: FfmData | null;
  /** Called after each epoch (progress reporting). */
  onEpoch?: (record: EpochRecord) => void;
}

/** The training rows laid out once: shuffled (when params.shuffle) and in shared memory when threads > 1. */
function layout(train: FfmData, p: FfmParams): FfmData {
  const shared = p.threads > 1;
  if (!p.shuffle) return shared && !isShared(train) ? gatherRows(train, Int32Array.from({ length: train.rows }, (_, i) => i), true) : train;
  const perm = new Int32Array(train.rows);
  for (let i = 0; i < perm.length; i++) perm[i] = i;
  new Rng(p.seed + 0x51ed).shuffle(perm);
  return gatherRows(train, perm, shared);
}

export async function trainFfm(train: FfmData, options: TrainOptions = {}): Promise<FfmModel> {
  const p = ffmParams(options.params);
  validateFfmData(train);
  const valid = options.validation ?? null;
  if (valid !== null) {
    validateFfmData(valid);
    const same = valid.space.fields.length === train.space.fields.length && valid.space.fields.every((f, i) => f.name === train.space.fields[i].name && f.size === train.space.fields[i].size);
    if (!same) throw new FfmError('UNKNOWN_FIELD', 'validation rows use different fields from the training rows');
  }
  const rows = layout(train, p);
  const W = initWeights(train.space, p, p.threads > 1);
  const blocks = Math.ceil(rows.rows / BLOCK_SIZE);
  const m = train.space.fields.length;
  const bias = biasBaseOf(train.space, p);
  const runner = p.threads > 1 ? await WorkerPool.start(W, rows, p) : null;
  const history: EpochRecord[] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let bestW: Float32Array | null = null;
  try {
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const lossSum = runner
        ? await runner.epoch(epoch)
        : trainBlocks(W, rows, epochBlockOrder(blocks, p.seed, epoch, p.shuffle), 0, blocks, BLOCK_SIZE, m, p.k, p.eta, p.lambda, p.normalize, bias, p.biasLambda);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      const validLoss = valid === null ? null : meanLogLoss(W, valid, p);
      const record: EpochRecord = { epoch, trainLoss: lossSum / rows.rows, validLoss, seconds, cpuSeconds, rowsPerSecond: rows.rows / seconds };
      history.push(record);
      options.onEpoch?.(record);
      if (!Number.isFinite(record.trainLoss)) throw new FfmError('NON_FINITE', `training diverged at epoch ${epoch} (loss ${record.trainLoss}); lower eta`);
      if (validLoss === null) {
        bestEpoch = epoch;
        continue;
      }
      if (validLoss < best) {
        best = validLoss;
        bestEpoch = epoch;
        if (epoch < p.epochs) {
          if (bestW === null) bestW = W.slice();
          else bestW.set(W);
        }
      } else if (epoch - bestEpoch >= p.patience) {
        break;
      }
    }
  } finally {
    await runner?.close();
  }
  if (bestW !== null && bestEpoch !== history.length) W.set(bestW); // bestW holds epoch bestEpoch when it is not the last
  return { params: p, space: train.space, weights: W, history, bestEpoch };
}

/** Worker threads that each train a fixed share of every epoch's blocks on the shared weights. */
class WorkerPool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(W: Float32Array, rows: FfmData, p: FfmParams): Promise<WorkerPool> {
    const blocks = Math.ceil(rows.rows / BLOCK_SIZE);
    const workers: Worker[] = [];
    for (let w = 0; w < p.threads; w++) {
      const init: WorkerInit = {
        weights: W,
        rows: { offsets: rows.offsets, features: rows.features, fields: rows.fields, values: rows.values, labels: rows.labels, rows: rows.rows, maxRowLength: rows.maxRowLength },
        m: rows.space.fields.length,
        biasBase: biasBaseOf(rows.space, p),
        params: p,
        blocks,
        blockFrom: Math.floor((w * blocks) / p.threads),
        blockTo: Math.floor(((w + 1) * blocks) / p.threads),
        blockSize: BLOCK_SIZE,
      };
      workers.push(spawnWorker(new URL('./worker.ts', import.meta.url), init));
    }
    const pool = new WorkerPool(workers);
    try {
      await pool.broadcast({ type: 'ping' });
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Runs one epoch on all workers; resolves with the summed training loss. */
  async epoch(epoch: number): Promise<number> {
    const replies = await this.broadcast({ type: 'epoch', epoch });
    return replies.reduce((s, r) => s + (r.type === 'done' ? r.loss : 0), 0);
  }

  private broadcast(request: WorkerRequest): Promise<WorkerReply[]> {
    return Promise.all(
      this.workers.map(
        (worker, i) =>
          new Promise<WorkerReply>((resolve, reject) => {
            const cleanup = () => {
              worker.off('message', onMessage);
              worker.off('error', onError);
              worker.off('exit', onExit);
            };
            const onMessage = (reply: WorkerReply) => {
              cleanup();
              resolve(reply);
            };
            const onError = (e: Error) => {
              cleanup();
              reject(new FfmError('WORKER_FAILED', `FFM worker ${i} failed: ${e.message}`));
            };
            const onExit = (code: number) => {
              cleanup();
              reject(new FfmError('WORKER_FAILED', `FFM worker ${i} exited with code ${code}`));
            };
            worker.on('message', onMessage);
            worker.on('error', onError);
            worker.on('exit', onExit);
            worker.postMessage(request);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
