/** Worker-thread side of Hogwild FFM training (started by WorkerPool in train.ts through spawnWorker). */
import { parentPort, workerData } from 'node:worker_threads';
import { epochBlockOrder, trainBlocks, type KernelRows } from './kernel.js';
import type { FfmParams } from './params.js';

export interface WorkerInit {
  /** Shared weights (a Float32Array over a SharedArrayBuffer). */
  weights: Float32Array;
  /** Shared training rows, already shuffled. */
  rows: KernelRows & { rows: number; maxRowLength: number };
  m: number;
  /** Start of the bias tail in `weights`, -1 without biases. */
  biasBase: number;
  params: FfmParams;
  blocks: number;
  /** This worker's share of each epoch's block order: positions [blockFrom, blockTo). */
  blockFrom: number;
  blockTo: number;
  blockSize: number;
}

export type WorkerRequest = { type: 'ping' } | { type: 'epoch'; epoch: number };
export type WorkerReply = { type: 'pong' } | { type: 'done'; epoch: number; loss: number };

if (parentPort !== null && workerData?.data?.weights instanceof Float32Array) {
  const port = parentPort;
  const init = workerData.data as WorkerInit;
  const { weights: W, rows, m, params: p } = init;
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'ping') {
      port.postMessage({ type: 'pong' } satisfies WorkerReply);
      return;
    }
    const order = epochBlockOrder(init.blocks, p.seed, request.epoch, p.shuffle);
    const loss = trainBlocks(W, rows, order, init.blockFrom, init.blockTo, init.blockSize, m, p.k, p.eta, p.lambda, p.normalize, init.biasBase, p.biasLambda);
    port.postMessage({ type: 'done', epoch: request.epoch, loss } satisfies WorkerReply);
  });
}
