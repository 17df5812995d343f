/** Progress lines for long runs: redrawn in place on a TTY (stderr by default), silent otherwise. */
import type { EpochRecord, TrainProgress } from './trainer.js';

export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

/** Callbacks for trainMemer that draw a one-line progress bar and print one line per epoch. */
export function ttyProgress(stream: ProgressSink = process.stderr, prefix = ''): { onProgress: (p: TrainProgress) => void; onEpoch: (r: EpochRecord) => void } {
  const tty = !!stream.isTTY;
  let last = 0;
  return {
    onProgress(p) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && p.batch !== p.batches) return;
      last = now;
      const width = 20;
      const done = Math.round((p.batch / p.batches) * width);
      stream.write(`\r${prefix}epoch ${p.epoch}/${p.maxEpochs} [${'#'.repeat(done)}${'.'.repeat(width - done)}] batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} ${fmt(p.samplesPerSecond)} samples/s\x1b[K`);
    },
    onEpoch(r) {
      if (!tty) return;
      const v = r.validation;
      const val = v ? ` val loss ${v.loss.toFixed(4)} auc ${v.auc.toFixed(4)}` : '';
      stream.write(`\r${prefix}epoch ${r.epoch}: train loss ${r.train.loss.toFixed(4)}${val} (${r.seconds.toFixed(1)} s, ${fmt(r.samplesPerSecond)} samples/s)\x1b[K\n`);
    },
  };
}
