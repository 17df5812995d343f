/**
 * An updatable set of embeddings for maximum-inner-product search. Each item (an integer key, e.g. a post's internal
 * id) owns a row of a growable Float32Array plus one byte of caller metadata (media type, stage...).
 *
 * Size classes (n = size); one code path each (docs/retrieval.md has the measurements behind the defaults):
 *   n < ortFrom                   exact, JS scan (topk.ts): no onnxruntime call overhead on tiny sets
 *   ortFrom <= n < approximateFrom exact, onnxruntime Gemm+TopK over the store's matrix (ort-exact.ts), fed by reference
 *   approximateFrom <= n           HNSW (mips-graph-index.ts); filtered searches over-fetch, and fall back to the exact
 *                                  path of the class above when the filter leaves too few results, so a filter never
 *                                  silently shortens a result list
 * onnxruntime is asynchronous, so the onnxruntime path is taken by `searchAsync` / `searchBatch` when the store has a
 * runtime. The synchronous `search` (kept for existing callers) is the same except that its exact scans are always JS.
 *
 * The graph is built once, with all cores, when the store first reaches approximateFrom items (or by `upsertMany`
 * crossing it); later upserts insert into it one at a time on the calling thread, `upsertMany` inserts in bulk.
 */
import type { OnnxRuntime } from '../onnx/runtime.js';
import { MipsGraphIndex, type MipsReduction } from './mips-graph-index.js';
import { OrtExactSearch } from './ort-exact.js';
import { topK, type TopK } from './topk.js';

export interface VectorStoreOptions {
  dim: number;
  /** Item count from which search goes through HNSW (Infinity = always exact). */
  approximateFrom: number;
  /** HNSW graph degree (usearch "connectivity"). */
  connectivity: number;
  /** HNSW candidate list size while searching (usearch "expansion_search"): higher = better recall, slower. */
  expansionSearch: number;
  /** HNSW candidate list size while inserting. */
  expansionAdd: number;
  /** How inner product maps onto HNSW: 'ip', 'norm-ranges' (MIPS-to-L2 per norm range) or 'auto' (by norm spread). */
  reduction: MipsReduction | 'auto';
  /** Norm ranges for the 'norm-ranges' reduction. */
  normRanges: number;
  /** Threads for building the graph and bulk inserts (0 = all cores). */
  buildThreads: number;
  /** onnxruntime for exact scans in searchAsync/searchBatch; without one they are JS scans. */
  runtime?: OnnxRuntime;
  /** Item count from which exact scans use onnxruntime (when a runtime is given). */
  ortFrom: number;
}

export const DEFAULT_STORE_OPTIONS: Omit<VectorStoreOptions, 'dim' | 'runtime'> = Object.freeze({
  approximateFrom: 50_000,
  connectivity: 16,
  expansionSearch: 1024,
  expansionAdd: 64,
  reduction: 'auto',
  normRanges: 4,
  buildThreads: 0,
  ortFrom: 1_024,
});

export interface Hit {
  key: number;
  score: number;
  meta: number;
}

export type Accept = (key: number, meta: number) => boolean;
export type SearchMode = 'auto' | 'exact';

/** Graph over-fetch for filtered searches grows by this factor per attempt, up to GRAPH_FETCH_LIMIT x expansionSearch. */
const GRAPH_FETCH_GROWTH = 4;
const GRAPH_FETCH_LIMIT = 16;

export class VectorStore {
  readonly dim: number;
  private readonly options: Omit<VectorStoreOptions, 'runtime'>;
  private readonly runtime: OnnxRuntime | undefined;
  private matrix: Float32Array;
  private keys: Int32Array;
  private metas: Uint8Array;
  private rows = new Map<number, number>();
  private graph: MipsGraphIndex | null = null;
  private ort: Promise<OrtExactSearch> | undefined;

  constructor(options: Partial<VectorStoreOptions> & { dim: number }) {
    const { runtime, ...rest } = options;
    this.options = Object.freeze({ ...DEFAULT_STORE_OPTIONS, ...rest });
    this.runtime = runtime;
    this.dim = options.dim;
    this.matrix = new Float32Array(1024 * this.dim);
    this.keys = new Int32Array(1024);
    this.metas = new Uint8Array(1024);
  }

  get size(): number {
    return this.rows.size;
  }

  get approximate(): boolean {
    return this.graph !== null;
  }

  /** The graph's reduction and norm ranges, or null while exact. */
  get graphShape(): { reduction: MipsReduction; ranges: { maxNorm: number; size: number }[] } | null {
    return this.graph ? { reduction: this.graph.reduction, ranges: this.graph.shape } : null;
  }

  /** The HNSW index while approximate (benches use its rawSearch), else null. */
  get graphIndex(): MipsGraphIndex | null {
    return this.graph;
  }

  has(key: number): boolean {
    return this.rows.has(key);
  }

  meta(key: number): number | undefined {
    const r = this.rows.get(key);
    return r === undefined ? undefined : this.metas[r];
  }

  vector(key: number): Float32Array | undefined {
    const r = this.rows.get(key);
    return r === undefined ? undefined : this.matrix.slice(r * this.dim, (r + 1) * this.dim);
  }

  upsert(key: number, vector: ArrayLike<number>, meta = 0): void {
    if (vector.length !== this.dim) throw new RangeError(`vector of length ${vector.length} in a store of dimension ${this.dim}`);
    const r = this.place(key, vector, 0, meta);
    if (this.graph) this.graph.upsert(r, this.matrix);
    else if (this.rows.size >= this.options.approximateFrom) this.buildGraph();
  }

  /** Upsert keys[i] -> vectors row i (row-major, keys.length x dim) with metas[i]; graph work is done in bulk. */
  upsertMany(keys: ArrayLike<number>, vectors: Float32Array, metas?: ArrayLike<number>): void {
    if (vectors.length !== keys.length * this.dim) throw new RangeError(`${vectors.length} values for ${keys.length} vectors of dimension ${this.dim}`);
    const touched = new Int32Array(keys.length);
    for (let i = 0; i < keys.length; i++) touched[i] = this.place(keys[i], vectors, i * this.dim, metas ? metas[i] : 0);
    if (this.graph) this.graph.addMany(touched, this.matrix);
    else if (this.rows.size >= this.options.approximateFrom) this.buildGraph();
  }

  /** Rebuild the graph from scratch (re-derives norm ranges after large changes); no-op below approximateFrom. */
  rebuild(): void {
    this.graph = null;
    if (this.rows.size >= this.options.approximateFrom) this.buildGraph();
  }

  /** The k best items by inner product with `query`, skipping those whose (key, meta) `accept` rejects. Exact scans are JS. */
  search(query: Float32Array, k: number, accept?: Accept, mode: SearchMode = 'auto'): Hit[] {
    this.checkQuery(query);
    if (this.graph && mode === 'auto') {
      const hits = this.searchGraph(query, k, accept);
      if (hits) return hits;
    }
    return this.toHits(topK(this.matrix, this.rows.size, this.dim, query, k, this.rowFilter(accept)));
  }

  /** As `search`, with exact scans through onnxruntime from ortFrom items (when the store has a runtime). */
  async searchAsync(query: Float32Array, k: number, accept?: Accept, mode: SearchMode = 'auto'): Promise<Hit[]> {
    this.checkQuery(query);
    if (this.graph && mode === 'auto') {
      const hits = this.searchGraph(query, k, accept);
      if (hits) return hits;
    }
    const ort = await this.exactSearcher();
    if (!ort) return this.toHits(topK(this.matrix, this.rows.size, this.dim, query, k, this.rowFilter(accept)));
    return this.toHits(await ort.search(query, k, { accept: this.rowFilter(accept) }));
  }

  /** Many queries at once (queries: row-major, B x dim); exact scans run as one onnxruntime batch. */
  async searchBatch(queries: Float32Array, k: number, accept?: Accept, mode: SearchMode = 'auto'): Promise<Hit[][]> {
    const b = queries.length / this.dim;
    if (!Number.isInteger(b)) throw new RangeError(`queries of length ${queries.length} are not rows of ${this.dim}`);
    const one = (i: number) => queries.subarray(i * this.dim, (i + 1) * this.dim);
    if (this.graph && mode === 'auto') {
      const out = Array.from({ length: b }, (_, i) => this.searchGraph(one(i), k, accept));
      if (out.every((h) => h !== null)) return out as Hit[][];
      return Promise.all(out.map((h, i) => h ?? this.searchAsync(one(i), k, accept, 'exact')));
    }
    const ort = await this.exactSearcher();
    if (!ort) return Array.from({ length: b }, (_, i) => this.toHits(topK(this.matrix, this.rows.size, this.dim, one(i), k, this.rowFilter(accept))));
    return (await ort.searchBatch(queries, k, { accept: this.rowFilter(accept) })).map((t) => this.toHits(t));
  }

  /** Release the onnxruntime sessions (the store stays usable; they are recreated on demand). */
  async dispose(): Promise<void> {
    const ort = this.ort;
    this.ort = undefined;
    if (ort) await (await ort).dispose();
  }

  private checkQuery(query: Float32Array): void {
    if (query.length !== this.dim) throw new RangeError(`query of length ${query.length} in a store of dimension ${this.dim}`);
  }

  private rowFilter(accept?: Accept): ((row: number) => boolean) | undefined {
    return accept ? (r: number) => accept(this.keys[r], this.metas[r]) : undefined;
  }

  /** The onnxruntime searcher pointed at the current matrix, or undefined below ortFrom / without a runtime. */
  private async exactSearcher(): Promise<OrtExactSearch | undefined> {
    const n = this.rows.size;
    if (!this.runtime || n < this.options.ortFrom) return undefined;
    if (!this.ort) {
      const p = OrtExactSearch.create(this.runtime, this.matrix, n, this.dim);
      p.catch(() => {
        if (this.ort === p) this.ort = undefined;
      });
      this.ort = p;
    }
    const ort = await this.ort;
    ort.setItems(this.matrix, this.rows.size);
    return ort;
  }

  private searchGraph(query: Float32Array, k: number, accept?: Accept): Hit[] | null {
    const n = this.rows.size;
    const want = Math.min(k, n);
    if (want <= 0) return [];
    const filter = this.rowFilter(accept);
    // usearch walks expansionSearch candidates whatever it is asked for and returns the best `fetch` of them.
    // Unfiltered: the best `want`. Filtered: 4x that, and 4x more while a range's accepted candidates run short (a
    // user who has seen many of the nearest posts); scoring each returned candidate here was a fifth of a 1M-post
    // search when every filtered search took all 1,024.
    const first = filter ? want * GRAPH_FETCH_GROWTH : want;
    for (let fetch = first; ; fetch *= GRAPH_FETCH_GROWTH) {
      const found = this.graph!.search(query, want, Math.min(n, fetch), this.matrix, filter);
      if ((found.rows.length >= want && found.complete) || fetch >= n) return this.toHits({ rows: Int32Array.from(found.rows), scores: Float32Array.from(found.scores) });
      // a very selective filter: the exact scan is cheaper than more graph work
      if (fetch >= GRAPH_FETCH_LIMIT * Math.max(first, this.options.expansionSearch)) return null;
    }
  }

  private toHits(t: TopK): Hit[] {
    return Array.from(t.rows, (r, i) => ({ key: this.keys[r], score: t.scores[i], meta: this.metas[r] }));
  }

  /** Write key's row (appending a new one if needed) and return it. */
  private place(key: number, source: ArrayLike<number>, offset: number, meta: number): number {
    let r = this.rows.get(key);
    if (r === undefined) {
      r = this.rows.size;
      this.ensureCapacity(r + 1);
      this.rows.set(key, r);
      this.keys[r] = key;
    }
    const base = r * this.dim;
    if (offset === 0 && source.length === this.dim) this.matrix.set(source, base);
    else for (let j = 0; j < this.dim; j++) this.matrix[base + j] = source[offset + j];
    this.metas[r] = meta;
    return r;
  }

  private buildGraph(): void {
    const o = this.options;
    this.graph = new MipsGraphIndex(
      { dim: this.dim, reduction: o.reduction, ranges: o.normRanges, connectivity: o.connectivity, expansionAdd: o.expansionAdd, expansionSearch: o.expansionSearch, threads: o.buildThreads },
      this.matrix,
      this.rows.size,
    );
  }

  private ensureCapacity(rows: number): void {
    if (rows <= this.keys.length) return;
    const cap = Math.max(rows, this.keys.length * 2);
    const m = new Float32Array(cap * this.dim);
    m.set(this.matrix);
    this.matrix = m;
    const k = new Int32Array(cap);
    k.set(this.keys);
    this.keys = k;
    const t = new Uint8Array(cap);
    t.set(this.metas);
    this.metas = t;
  }
}
