/**
 * `memer bench memer-train`: MEMER training throughput at the paper's shapes (video: visual 2048 + audio 128 +
 * text 100, plus aux), batch 16384, one ONNX run per step (forward, loss, backward, Adam).
 *
 * Results: samples/s of the full step (batch gather + noise + run) with `threads` intra-op threads, beside the same
 * step with the batch already assembled (run only) as baseline; and the full step with 1 thread.
 * Parameters (--set key=value): threads (2), batch (16384), steps (8, after 1 warm-up step; a whole warm-up pass runs first), items (3000), aux (16),
 * semanticDim (64), spinning (1; 0 turns off ORT thread spin-waiting, which may help on a busy shared machine).
 */
import { positiveArg, withBaseline, type Bench, type BenchResult } from './harness.js';
import { memerConfig, paperModalities } from '../ml/memer/config.js';
import { BatchAssembler } from '../ml/memer/data.js';
import { TrainingEngine } from '../ml/memer/engine.js';
import { modalityStats } from '../ml/memer/features.js';
import { buildMemerGraph, type StatsByModality } from '../ml/memer/model.js';
import { syntheticData } from '../ml/memer/synthetic.js';
import { Rng } from '../ml/graph/rng.js';
import { OnnxRuntime } from '../ml/onnx/runtime.js';


export const bench: Bench = {
  summary: 'MEMER training steps/s at the paper shapes (ONNX forward+backward+Adam in one run)',
  async run(args, log) {
    const threads = positiveArg(args, 'threads', 2);
    const spinning = (args.spinning ?? '1') !== '0';
    const batch = positiveArg(args, 'batch', 16384);
    const steps = positiveArg(args, 'steps', 8);
    const items = positiveArg(args, 'items', 3000);
    const modalities = paperModalities('video', positiveArg(args, 'aux', 16));
    const config = memerConfig({ architecture: { modalities, semanticDim: positiveArg(args, 'semanticDim', 64) }, training: { batchSize: batch, threads } });
    log(`memer-train: ${modalities.map((m) => `${m.modality} ${m.dim}`).join(' + ')}, batch ${batch}, F ${config.architecture.semanticDim}`);
    const data = syntheticData({ modalities, items, users: 2000, samples: batch * (steps + 1), embeddingDim: 32, factors: 8, missingRate: 0.1, seed: 1 });
    const rows = Int32Array.from({ length: items }, (_, i) => i);
    const stats: StatsByModality = {};
    for (const s of modalities) stats[s.modality] = modalityStats(data.items.features[s.modality]!, rows, data.items.presence?.[s.modality]);
    const model = buildMemerGraph(config, stats);
    const a = config.architecture;
    const asm = new BatchAssembler(data, modalities, a.embeddingDim, a.latentDim, batch, a.sampleLatent);
    const order = Int32Array.from({ length: data.samples.length }, (_, i) => i);

    const measure = async (nThreads: number, assemble: boolean): Promise<number> => {
      const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: nThreads, spinning });
      const engine = await TrainingEngine.create(runtime, model, config.training.adam);
      const rng = new Rng(2);
      let fixed = asm.fill(order, 0, batch, rng);
      await engine.step(fixed); // warm-up (first run allocates)
      const t0 = performance.now();
      for (let s = 1; s <= steps; s++) {
        if (assemble) fixed = asm.fill(order, s * batch, batch, rng);
        await engine.step(fixed);
      }
      const sps = (steps * batch * 1000) / (performance.now() - t0);
      await engine.dispose();
      await runtime.dispose();
      log(`  ${nThreads} thread(s), ${assemble ? 'gather + run' : 'run only'}: ${Math.round(sps).toLocaleString('en-US')} samples/s`);
      return sps;
    };

    log('  (warm-up pass, not reported)');
    await measure(threads, true);
    const full = await measure(threads, true);
    const runOnly = await measure(threads, false);
    const one = await measure(1, true);
    const results: BenchResult[] = [
      withBaseline({ name: `train samples/s (${threads} threads, gather + run)`, value: full, unit: 'samples/s' }, { name: 'run only (batch pre-assembled)', value: runOnly }),
      { name: 'train samples/s (1 thread, gather + run)', value: one, unit: 'samples/s' },
      { name: 'target samples/s (2 threads, paper shapes)', value: 50000, unit: 'samples/s' },
    ];
    return results;
  },
};
