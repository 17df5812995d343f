import { Worker, type TransferListItem } from 'node:worker_threads';

/**
 * Start a worker thread on a TypeScript module. `entry` is the module's URL (e.g.
 * `new URL('./ffm.worker.ts', import.meta.url)`); `data` reaches it as `workerData.data`.
 */
export function spawnWorker(entry: URL, data: unknown, transferList: TransferListItem[] = []): Worker {
  return new Worker(new URL('./worker-boot.mjs', import.meta.url), {
    workerData: { entry: entry.href, data },
    transferList,
  });
}
