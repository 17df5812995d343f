/**
 * `memer bench pipeline`: seconds to train everything `memer train` trains (trainPipeline: backbone, M, MEMER per
 * signal and media type) with today's defaults, against the paper's configuration in the same run (the FFM backbone,
 * MEMER on mature posts only, no prior, freq as observed, AUC selection: the defaults before issue 16), on one
 * simulated platform. ratio = default seconds / paper seconds (issue 16 bounds it at 1.5).
 * Parameters (--set key=value): posts, users, interactions (default 20000 / 10000 / 1000000: `memer simulate`'s
 * default platform, with its feature widths), samples (MEMER samples per model, default the pipeline's 200000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataset } from '../datasets/read.js';
import { simulate } from '../datasets/simulator/index.js';
import { PAPER_PIPELINE_OPTIONS, trainPipeline, type PipelineOptions } from '../ml/pipeline/index.js';
import { positiveArg, withBaseline, type Bench } from './harness.js';

export const bench: Bench = {
  summary: 'seconds to train the pipeline (memer train) with the defaults, against the paper configuration in the same run',
  async run(args, log) {
    const posts = positiveArg(args, 'posts', 20_000, true);
    const users = positiveArg(args, 'users', 10_000, true);
    const interactions = positiveArg(args, 'interactions', 1_000_000, true);
    const samples = positiveArg(args, 'samples', 200_000, true);
    const dir = mkdtempSync(join(tmpdir(), 'memer-bench-pipeline-'));
    try {
      log(`simulating ${posts} posts, ${users} users, ${interactions} interactions in ${dir}`);
      await simulate(dir, { seed: 1, posts, users, interactions, writeLatent: false });
      const ds = await readDataset(dir);
      const time = async (label: string, o: Partial<PipelineOptions>) => {
        const t = performance.now();
        const r = await trainPipeline(ds, { ...o, memerMaxSamples: samples });
        const s = (performance.now() - t) / 1000;
        log(`  ${label}: ${s.toFixed(1)} s (${JSON.stringify(r.timings)})`);
        return s;
      };
      const paper = await time('paper configuration', PAPER_PIPELINE_OPTIONS);
      const defaults = await time('defaults', {});
      return [withBaseline({ name: `trainPipeline, defaults (${posts} posts, ${interactions} interactions)`, value: defaults, unit: 's' }, { name: 'trainPipeline, paper configuration (before issue 16)', value: paper })];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
