/**
 * `memer bench ffm`: FFM training throughput (rows/s) on a generated set, 1 thread, then 2 Hogwild worker threads
 * with the 1-thread figure as baseline. Defaults: 5M rows of (user, post, hour) with Zipf popularity over 200k users
 * and 50k posts, k = 32, libffm's other defaults, 3 epochs. The figure is the fastest epoch: other processes share this
 * machine, and each epoch logs how many cores the process really got (CPU seconds / wall seconds) so a slowed epoch
 * shows.
 * Parameters (--set key=value): rows, users, posts, epochs, threads (comma list, default "1,2").
 */
import { bytesPerRow } from '../ml/ffm/data.js';
import { syntheticFfmSet } from '../ml/ffm/synthetic.js';
import { trainFfm } from '../ml/ffm/train.js';
import { positiveArg, withBaseline, type Bench, type BenchResult } from './harness.js';


export const bench: Bench = {
  summary: 'FFM training rows/s on a generated 5M-row set: 1 thread, and 2 Hogwild worker threads against it',
  async run(args, log) {
    const rows = positiveArg(args, 'rows', 5_000_000, true);
    const users = positiveArg(args, 'users', 200_000, true);
    const posts = positiveArg(args, 'posts', 50_000, true);
    const epochs = positiveArg(args, 'epochs', 3, true);
    const threadList = (args.threads ?? '1,2').split(',').map((t) => positiveArg({ threads: t }, 'threads', 1, true));
    log(`generating ${rows} rows (${users} users, ${posts} posts, 24 hours)`);
    const { data } = syntheticFfmSet({ rows, users, posts, seed: 1 });
    const results: BenchResult[] = [];
    let baseline: { name: string; value: number } | undefined;
    for (const threads of threadList) {
      const model = await trainFfm(data, {
        params: { threads, epochs, seed: 1 },
        onEpoch: (r) =>
          log(
            `  ${threads} thread(s) epoch ${r.epoch}: ${Math.round(r.rowsPerSecond).toLocaleString('en-US')} rows/s, loss ${r.trainLoss.toFixed(4)}, ` +
              `CPU ${(r.cpuSeconds / r.seconds).toFixed(2)} of ${threads} core(s) busy (less means other processes took CPU)`,
          ),
      });
      const value = Math.max(...model.history.map((h) => h.rowsPerSecond));
      const name = `ffm train ${threads} thread${threads > 1 ? 's' : ''} (k=32, 3 fields, ${(rows / 1e6).toFixed(1)}M rows, best of ${epochs} epochs)`;
      results.push(withBaseline({ name, value, unit: 'rows/s' }, baseline));
      if (baseline === undefined) baseline = { name, value };
    }
    results.push({ name: 'ffm bytes per training row', value: bytesPerRow(data), unit: 'bytes' });
    return results;
  },
};
