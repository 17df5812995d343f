/**
 * `memer bench simulate`: how fast the synthetic platform writes interactions, and how fast readDataset loads them.
 *   1. simulate interactions/s: memer simulate with --interactions rows (default 10M), features at small widths so the
 *      figure is the impression generator and CSV writer (rows / seconds of the whole run).
 *   2. readDataset rows/s (items.csv + interactions.csv, features skipped), against a baseline in the same run: a plain
 *      scan of interactions.csv that only counts line breaks (the I/O floor); ratio = parse speed / scan speed.
 * Parameters (--set key=value): rows, users, posts, keep (1 = leave the folder in the temp dir and print its path).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../datasets/read.js';
import { simulate } from '../datasets/simulator/index.js';
import { positiveArg, withBaseline, type Bench, type BenchResult } from './harness.js';


/** Counts LF bytes in a file with 4 MiB reads: the cheapest possible pass over the same bytes. */
function countLines(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  let lines = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      for (let i = buf.indexOf(10, 0); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

export const bench: Bench = {
  summary: 'simulated interactions/s (memer simulate) and readDataset rows/s against a line-count scan of the same file',
  async run(args, log) {
    const rows = positiveArg(args, 'rows', 10_000_000, true);
    const users = positiveArg(args, 'users', 100_000, true);
    const posts = positiveArg(args, 'posts', 50_000, true);
    const dir = mkdtempSync(join(tmpdir(), 'memer-bench-sim-'));
    try {
      log(`simulating ${rows.toLocaleString('en-US')} interactions (${users} users, ${posts} posts, features 16-d) in ${dir}`);
      const summary = await simulate(dir, { seed: 1, users, posts, interactions: rows, dims: { videoVisual: 16, imageVisual: 16, audio: 16, text: 16 }, writeLatent: false });
      log(`  ${summary.interactions} rows in ${summary.seconds.toFixed(1)} s`);
      const results: BenchResult[] = [{ name: `simulate interactions (${(rows / 1e6).toFixed(1)}M rows, whole run)`, value: summary.interactions / summary.seconds, unit: 'rows/s' }];

      const path = join(dir, 'interactions.csv');
      countLines(path); // warm the page cache so that both timed passes read from memory
      let t = performance.now();
      const lines = countLines(path);
      const scan = (lines - 1) / ((performance.now() - t) / 1000);
      log(`  line-count scan: ${Math.round(scan).toLocaleString('en-US')} rows/s`);
      t = performance.now();
      const d = await readDataset(dir, { features: false });
      const seconds = (performance.now() - t) / 1000;
      log(`  readDataset: ${d.interactions.length} rows in ${seconds.toFixed(2)} s, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
      results.push(withBaseline({ name: 'readDataset interactions (features skipped)', value: d.interactions.length / seconds, unit: 'rows/s' }, { name: 'line-count scan of interactions.csv', value: scan }));
      return results;
    } finally {
      if (args.keep === '1') log(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    }
  },
};
