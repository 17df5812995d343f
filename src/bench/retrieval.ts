/**
 * `memer bench retrieval`: top-50 recommendation retrieval over N x 32 post embeddings, at each size in `sizes` and on
 * each synthetic set in `sets` (structured = FFM-like low rank with spread norms; random = i.i.d. normal, the hardest
 * case for HNSW). Everything is measured in one process, with module and raw figures interleaved query by query (in
 * alternating order) so background load on a shared machine hits both alike.
 *
 * Per size and set:
 * - exact JS scan (topk.ts): p50/p99 ms, queries/s
 * - exact onnxruntime through OrtExactSearch (matrix fed by reference), single query: p50/p99, queries/s, each beside
 *   raw InferenceSession.run on the same graph bytes and session options; the same with the matrix frozen into the
 *   model as an initializer (beside the input placement); batches of 64: per-query ms and queries/s beside raw
 * - VectorStore: build time (upsertMany, graph built once with all cores); search p50/p99, queries/s beside one raw
 *   usearch call on the same graph; recall@50 against exact (onnxruntime); a filtered search (one meta value in three
 *   plus 100 excluded keys) through the graph, and the same filter on the exact onnxruntime path (searchAsync 'exact')
 * Parameters (--set key=value): sizes (100000,1000000), sets (structured,random), random (100000: the largest size
 * the random set runs at; its 1M graph takes minutes to build), queries (200), threads (2), connectivity,
 * expansionSearch, expansionAdd, normRanges, reduction (VectorStore defaults).
 */
import '../ml/onnx/telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { BenchArgError, positiveArg, percentile, withBaseline, type Bench, type BenchResult } from './harness.js';
import { OnnxRuntime } from '../ml/onnx/runtime.js';
import { mipsTopKModel } from '../ml/retrieval/mips-graph.js';
import { OrtExactSearch } from '../ml/retrieval/ort-exact.js';
import { randomVectors, structuredVectors } from '../ml/retrieval/synthetic.js';
import { topK } from '../ml/retrieval/topk.js';
import { DEFAULT_STORE_OPTIONS, VectorStore, type Hit, type VectorStoreOptions } from '../ml/retrieval/vector-store.js';

const DIM = 32;
const K = 50;
const BATCH = 64;


interface Timing {
  p50: number;
  p99: number;
  qps: number;
}

function timing(samples: number[], perCall = 1): Timing {
  const total = samples.reduce((a, b) => a + b, 0);
  return { p50: percentile(samples, 50) / perCall, p99: percentile(samples, 99) / perCall, qps: (samples.length * perCall * 1000) / total };
}

async function time(fn: () => unknown, samples: number[]): Promise<void> {
  const t = performance.now();
  await fn();
  samples.push(performance.now() - t);
}

/** Time a and b on the same input, alternating which goes first (the second call on a query finds warm caches). */
async function pair(i: number, a: () => unknown, as: number[], b: () => unknown, bs: number[]): Promise<void> {
  if (i % 2 === 0) {
    await time(a, as);
    await time(b, bs);
  } else {
    await time(b, bs);
    await time(a, as);
  }
}

const fmt = (t: Timing) => `p50 ${t.p50.toFixed(3)} ms p99 ${t.p99.toFixed(3)} ms ${Math.round(t.qps)} q/s`;

export const bench: Bench = {
  summary: 'top-50 retrieval at 100k and 1M posts: exact JS, exact onnxruntime (single, batch 64), HNSW VectorStore with recall@50 and build time',
  async run(args, log) {
    const sizes = (args.sizes ?? '100000,1000000').split(',').map(Number);
    if (sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new BenchArgError(`--set sizes=${args.sizes}: expected integers >= 1000`);
    const sets = (args.sets ?? 'structured,random').split(',');
    for (const s of sets) if (s !== 'structured' && s !== 'random') throw new BenchArgError(`--set sets: unknown set "${s}" (structured, random)`);
    // Building a 1M-item HNSW graph on random vectors takes minutes on 2 cores: opt in with --set random=1000000.
    const randomMax = positiveArg(args, 'random', 100_000);
    const nq = Math.round(positiveArg(args, 'queries', 200));
    const threads = positiveArg(args, 'threads', 2);
    const storeOptions: Partial<VectorStoreOptions> = {};
    for (const key of ['connectivity', 'expansionSearch', 'expansionAdd', 'normRanges'] as const) if (args[key]) storeOptions[key] = positiveArg(args, key, 0);
    if (args.reduction) storeOptions.reduction = args.reduction as VectorStoreOptions['reduction'];
    const o = { ...DEFAULT_STORE_OPTIONS, ...storeOptions };
    log(`retrieval: k=${K}, d=${DIM}, ${nq} queries, ${threads} onnxruntime threads; HNSW connectivity ${o.connectivity}, expansion add ${o.expansionAdd} / search ${o.expansionSearch}, reduction ${o.reduction}, ${o.normRanges} norm ranges`);
    const runtime = new OnnxRuntime({ provider: 'cpu', intraOpThreads: threads, interOpThreads: 1 });
    const rawOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3,
    };
    const raw = await ort.InferenceSession.create(mipsTopKModel({ dim: DIM, masked: false }), rawOptions);
    const results: BenchResult[] = [];
    const push = (name: string, t: Timing, base?: Timing, baseName?: string) => {
      results.push(withBaseline({ name: `${name} p50`, value: t.p50, unit: 'ms' }, base && { name: baseName!, value: base.p50 }));
      results.push(withBaseline({ name: `${name} p99`, value: t.p99, unit: 'ms' }, base && { name: baseName!, value: base.p99 }));
      results.push(withBaseline({ name: `${name} queries/s`, value: t.qps, unit: 'queries/s' }, base && { name: baseName!, value: base.qps }));
    };

    for (const n of sizes) {
      for (const set of sets) {
        if (set === 'random' && n > randomMax) {
          log(`${n} random: skipped (above --set random=${randomMax})`);
          continue;
        }
        const label = `${n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`} ${set}`;
        const gen = set === 'random' ? randomVectors : structuredVectors;
        const data = gen(n, DIM, 1);
        const queries = gen(nq, DIM, 2);
        const query = (i: number) => queries.subarray((i % nq) * DIM, ((i % nq) + 1) * DIM);

        // Exact, JS scan.
        const js: number[] = [];
        for (let i = 0; i < Math.min(nq, n >= 500_000 ? 40 : 100); i++) await time(() => topK(data, n, DIM, query(i), K), js);
        const jsT = timing(js);
        log(`${label}: exact JS ${fmt(jsT)}`);
        push(`${label} exact JS`, jsT);

        // Exact, onnxruntime: module vs raw session.run, single queries interleaved.
        const exact = await OrtExactSearch.create(runtime, data, n, DIM, 'input');
        const items = new ort.Tensor('float32', data, [n, DIM]);
        const kTensor = new ort.Tensor('float32', Float32Array.of(K), [1]);
        const rawRun = (q: Float32Array, b: number) => raw.run({ queries: new ort.Tensor('float32', q, [b, DIM]), items, k: kTensor });
        for (let i = 0; i < 5; i++) {
          await exact.search(query(i), K);
          await rawRun(query(i), 1);
        }
        const mod: number[] = [];
        const rw: number[] = [];
        for (let i = 0; i < nq; i++) {
          await pair(i, () => rawRun(query(i), 1), rw, () => exact.search(query(i), K), mod);
        }
        const ortT = timing(mod);
        const rawT = timing(rw);
        log(`${label}: exact ORT single ${fmt(ortT)} | raw session.run ${fmt(rawT)}`);
        push(`${label} exact ORT single`, ortT, rawT, 'raw session.run');

        // Exact, onnxruntime, batches of 64.
        const batches = Math.max(4, Math.round(nq / 8));
        const batchOf = (i: number) => {
          const start = (i * BATCH) % Math.max(1, nq - BATCH);
          return queries.subarray(start * DIM, (start + BATCH) * DIM);
        };
        await exact.searchBatch(batchOf(0), K);
        await rawRun(batchOf(0), BATCH);
        const bm: number[] = [];
        const br: number[] = [];
        for (let i = 0; i < batches; i++) {
          await pair(i, () => rawRun(batchOf(i), BATCH), br, () => exact.searchBatch(batchOf(i), K), bm);
        }
        const bT = timing(bm, BATCH);
        const brT = timing(br, BATCH);
        log(`${label}: exact ORT batch ${BATCH} (per query) ${fmt(bT)} | raw ${fmt(brT)}`);
        push(`${label} exact ORT batch ${BATCH} per-query`, bT, brT, 'raw session.run');

        // Exact ground truth for recall (onnxruntime, batched).
        const truth = await exact.searchBatch(queries, K);

        // The matrix frozen as an initializer vs fed by reference (single queries), structured set only.
        if (set === sets[0]) {
          let t = performance.now();
          const frozen = await OrtExactSearch.create(runtime, data, n, DIM, 'initializer');
          const frozenBuild = performance.now() - t;
          await frozen.search(query(0), K);
          const fz: number[] = [];
          const inp: number[] = [];
          for (let i = 0; i < nq; i++) {
            await pair(i, () => frozen.search(query(i), K), fz, () => exact.search(query(i), K), inp);
          }
          const fzT = timing(fz);
          const inpT = timing(inp);
          log(`${label}: exact ORT single, matrix as initializer ${fmt(fzT)} (session ${frozenBuild.toFixed(0)} ms) | as input ${fmt(inpT)}`);
          push(`${label} exact ORT single (matrix initializer)`, fzT, inpT, 'matrix as input');
          results.push({ name: `${label} exact ORT initializer session build`, value: frozenBuild, unit: 'ms' });
          await frozen.dispose();
        }

        // HNSW through VectorStore.
        const keys = Int32Array.from({ length: n }, (_, i) => i);
        const metas = Uint8Array.from({ length: n }, (_, i) => i % 3);
        const store = new VectorStore({ dim: DIM, ...storeOptions, approximateFrom: Math.min(n, DEFAULT_STORE_OPTIONS.approximateFrom), runtime, ortFrom: 1 });
        const t0 = performance.now();
        store.upsertMany(keys, data, metas);
        const build = (performance.now() - t0) / 1000;
        const shape = store.graphShape!;
        log(`${label}: HNSW build ${build.toFixed(1)} s, ${shape.reduction}, ranges ${shape.ranges.map((r) => `${r.size}@${r.maxNorm.toFixed(2)}`).join(' ')}`);
        results.push({ name: `${label} HNSW build (VectorStore.upsertMany)`, value: build, unit: 's' });
        const graph = store.graphIndex!;
        for (let i = 0; i < 20; i++) {
          store.search(query(i), K);
          graph.rawSearch(query(i), K);
        }
        const hs: number[] = [];
        const hr: number[] = [];
        let hits = 0;
        for (let i = 0; i < nq; i++) {
          let found: Hit[] = [];
          await pair(i, () => graph.rawSearch(query(i), K), hr, () => (found = store.search(query(i), K)), hs);
          const want = new Set(truth[i].rows);
          for (const h of found) if (want.has(h.key)) hits++;
        }
        const recall = hits / (nq * K);
        const hT = timing(hs);
        const hrT = timing(hr);
        log(`${label}: HNSW VectorStore.search ${fmt(hT)} recall@50 ${recall.toFixed(3)} | raw usearch ${fmt(hrT)}`);
        push(`${label} HNSW VectorStore.search`, hT, hrT, 'raw usearch search');
        results.push({ name: `${label} HNSW recall@50`, value: recall, unit: 'recall' });

        // Filtered: one meta value in three and 100 excluded keys, through the graph and through exact onnxruntime.
        const excluded = new Set(Array.from({ length: 100 }, (_, i) => (i * 7919) % n));
        const accept = (key: number, meta: number) => meta === 0 && !excluded.has(key);
        const fg: number[] = [];
        const fe: number[] = [];
        let fhits = 0;
        const fq = Math.min(nq, 50);
        const fTruth = await Promise.all(Array.from({ length: fq }, (_, i) => store.searchAsync(query(i), K, accept, 'exact')));
        // Separate loops: onnxruntime's intra-op threads spin after a run and would slow a graph search right after it.
        for (let i = 0; i < fq; i++) {
          let found: Hit[] = [];
          await time(() => (found = store.search(query(i), K, accept)), fg);
          const want = new Set(fTruth[i].map((h) => h.key));
          for (const h of found) if (want.has(h.key)) fhits++;
        }
        for (let i = 0; i < fq; i++) await time(() => store.searchAsync(query(i), K, accept, 'exact'), fe);
        const fgT = timing(fg);
        const feT = timing(fe);
        log(`${label}: filtered HNSW ${fmt(fgT)} recall@50 ${(fhits / (fq * K)).toFixed(3)} | filtered exact ORT ${fmt(feT)}`);
        push(`${label} filtered HNSW search`, fgT, feT, 'filtered exact ORT (searchAsync exact)');
        results.push({ name: `${label} filtered HNSW recall@50`, value: fhits / (fq * K), unit: 'recall' });
        await store.dispose();
        await exact.dispose();
      }
    }
    await raw.release();
    await runtime.dispose();
    return results;
  },
};
