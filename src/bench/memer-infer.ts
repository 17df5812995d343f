/**
 * `memer bench memer-infer`: the exported MEMER inference model (paper video shapes) served through the runtime module
 * (src/ml/onnx: checked Session, micro-batcher), each figure beside raw onnxruntime-node on the same graph bytes with
 * the same session options, measured in the same run with the two interleaved in rounds (so background load on a
 * shared machine hits both alike).
 *
 * Results per batch size (1, 64, 1024): items/s (baseline raw items/s), p50 and p99 latency (baseline raw).
 * Then single-post requests through the micro-batcher: serial p99 latency, and items/s with `concurrency` requests in
 * flight at once (baseline: raw batch-1 items/s).
 * Parameters (--set key=value): threads (2), seconds per measurement (1), aux (16), concurrency (256).
 */
import '../ml/onnx/telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { positiveArg, percentile, withBaseline, type Bench, type BenchResult } from './harness.js';
import { memerConfig, paperModalities } from '../ml/memer/config.js';
import { exportInferenceModel } from '../ml/memer/export.js';
import { MemerEmbedder, type PostFeatures } from '../ml/memer/inference.js';
import { buildMemerGraph, type StatsByModality } from '../ml/memer/model.js';
import { Rng } from '../ml/graph/rng.js';
import { OnnxRuntime } from '../ml/onnx/runtime.js';
import type { Feed } from '../ml/onnx/session.js';


/** Time `fn` repeatedly in `rounds` slices, alternating with the other measurement by the caller. */
async function timeCalls(fn: () => Promise<unknown>, ms: number, samples: number[]): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
}

export const bench: Bench = {
  summary: 'MEMER inference through the runtime module vs raw onnxruntime: items/s, p50/p99 at batch 1, 64, 1024',
  async run(args, log) {
    const threads = positiveArg(args, 'threads', 2);
    const seconds = positiveArg(args, 'seconds', 1);
    const concurrency = positiveArg(args, 'concurrency', 256);
    const modalities = paperModalities('video', positiveArg(args, 'aux', 16));
    const config = memerConfig({ architecture: { modalities } });
    const stats: StatsByModality = {};
    for (const s of modalities) stats[s.modality] = { mean: new Float32Array(s.dim), std: new Float32Array(s.dim).fill(1), scale: new Float32Array(s.dim).fill(1), count: 1 };
    const model = buildMemerGraph(config, stats);
    const weights = new Map(model.graph.params.map((p) => [p.name, p.init]));
    const bytes = exportInferenceModel({ config, model, stats, weights }, { signal: 'bench', mediaType: 'video', version: 'bench' });
    log(`memer-infer: ${modalities.map((m) => `${m.modality} ${m.dim}`).join(' + ')} -> ${config.architecture.embeddingDim}, ${threads} threads, ${(bytes.length / 1e6).toFixed(1)} MB model`);

    const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: threads, interOpThreads: 1 });
    const embedder = await MemerEmbedder.load(runtime, 'bench', bytes);
    const raw = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    const rng = new Rng(3);
    const post = (): PostFeatures => {
      const features: PostFeatures['features'] = {};
      for (const s of modalities) features[s.modality] = rng.fillNormal(new Float32Array(s.dim));
      return { features, freq: rng.next() };
    };
    const results: BenchResult[] = [];
    const rounds = 4;
    const slice = (seconds * 1000) / rounds;
    const rawSingle = { p99: NaN, ips: NaN };

    for (const batch of [1, 64, 1024]) {
      const posts = Array.from({ length: batch }, post);
      const rows = embedder.feeds(posts);
      const feeds: Record<string, Feed> = {};
      const tensors: Record<string, ort.Tensor> = {};
      for (const s of embedder.session.inputs) {
        const dims = [batch, ...(s.shape.slice(1) as number[])];
        feeds[s.name] = { data: rows[s.name], dims };
        tensors[s.name] = new ort.Tensor('float32', rows[s.name], dims);
      }
      const viaRuntime = () => embedder.session.run(feeds, ['embedding']);
      const viaRaw = () => raw.run(tensors, ['embedding']);
      for (let i = 0; i < 20; i++) {
        await viaRuntime();
        await viaRaw();
      }
      const rt: number[] = [];
      const rw: number[] = [];
      for (let r = 0; r < rounds; r++) {
        await timeCalls(viaRaw, slice, rw);
        await timeCalls(viaRuntime, slice, rt);
      }
      const ips = (s: number[]) => (s.length * batch * 1000) / s.reduce((a, b) => a + b, 0);
      log(`  batch ${batch}: runtime ${Math.round(ips(rt))} items/s p50 ${percentile(rt, 50).toFixed(3)} ms p99 ${percentile(rt, 99).toFixed(3)} ms | raw ${Math.round(ips(rw))} items/s p50 ${percentile(rw, 50).toFixed(3)} ms p99 ${percentile(rw, 99).toFixed(3)} ms`);
      results.push(withBaseline({ name: `batch ${batch} items/s (runtime)`, value: ips(rt), unit: 'items/s' }, { name: 'raw onnxruntime', value: ips(rw) }));
      results.push(withBaseline({ name: `batch ${batch} p50 latency (runtime)`, value: percentile(rt, 50), unit: 'ms' }, { name: 'raw onnxruntime', value: percentile(rw, 50) }));
      results.push(withBaseline({ name: `batch ${batch} p99 latency (runtime)`, value: percentile(rt, 99), unit: 'ms' }, { name: 'raw onnxruntime', value: percentile(rw, 99) }));
      if (batch === 1) Object.assign(rawSingle, { p99: percentile(rw, 99), ips: ips(rw) });
    }

    // Single-post requests through the micro-batcher: one at a time, then `concurrency` at once.
    const one = post();
    const serial: number[] = [];
    for (let i = 0; i < 50; i++) await embedder.embed(one);
    await timeCalls(() => embedder.embed(one), seconds * 1000, serial);
    log(`  single request via micro-batcher: p50 ${percentile(serial, 50).toFixed(3)} ms p99 ${percentile(serial, 99).toFixed(3)} ms`);
    results.push(withBaseline({ name: 'single request p99 latency (micro-batcher)', value: percentile(serial, 99), unit: 'ms' }, { name: 'raw onnxruntime batch 1', value: rawSingle.p99 }));
    const posts = Array.from({ length: concurrency }, post);
    const before = { ...embedder.stats };
    const latencies: number[] = [];
    const t0 = performance.now();
    let done = 0;
    while (performance.now() - t0 < seconds * 1000) {
      await Promise.all(posts.map(async (p) => {
        const t = performance.now();
        await embedder.embed(p);
        latencies.push(performance.now() - t);
      }));
      done += concurrency;
    }
    const ips = (done * 1000) / (performance.now() - t0);
    const runs = embedder.stats.runs - before.runs;
    log(`  ${concurrency} concurrent single requests: ${Math.round(ips)} items/s, ${(done / runs).toFixed(1)} requests per run, p99 ${percentile(latencies, 99).toFixed(3)} ms`);
    results.push(withBaseline({ name: `${concurrency} concurrent single requests items/s (micro-batched)`, value: ips, unit: 'items/s' }, { name: 'raw onnxruntime batch 1', value: rawSingle.ips }));
    results.push({ name: `${concurrency} concurrent single requests: requests per run`, value: done / runs, unit: 'requests/run' });
    await raw.release();
    await runtime.dispose();
    return results;
  },
};
