/**
 * An updatable set of embeddings for maximum-inner-product search. Each item (an integer key, e.g. a post's internal
 * id) owns a row of a growable Float32Array plus one byte of caller metadata (media type, stage...). Search is exact
 * (topK) below `approximateFrom` items, and through an HNSW graph (usearch, inner-product metric) above it; the graph
 * is kept in step with upserts. Filtered approximate searches over-fetch, and fall back to the exact scan when the
 * filter leaves too few results, so a filter never silently shortens a result list.
 */
import { createRequire } from 'node:module';
import type * as Usearch from 'usearch';
import { topK, type TopK } from './topk.js';

// usearch's ESM entry cannot locate its native build when loaded through a loader (tsx); its CommonJS entry can.
const usearch = createRequire(import.meta.url)('usearch') as typeof Usearch;

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
}

export const DEFAULT_STORE_OPTIONS: Omit<VectorStoreOptions, 'dim'> = Object.freeze({
  approximateFrom: 50_000,
  connectivity: 16,
  expansionSearch: 128,
  expansionAdd: 128,
});

export interface Hit {
  key: number;
  score: number;
  meta: number;
}

export class VectorStore {
  readonly dim: number;
  private readonly options: VectorStoreOptions;
  private matrix: Float32Array;
  private keys: Int32Array;
  private metas: Uint8Array;
  private rows = new Map<number, number>();
  private hnsw: InstanceType<typeof usearch.Index> | null = null;

  constructor(options: Partial<VectorStoreOptions> & { dim: number }) {
    this.options = { ...DEFAULT_STORE_OPTIONS, ...options };
    this.dim = options.dim;
    this.matrix = new Float32Array(1024 * this.dim);
    this.keys = new Int32Array(1024);
    this.metas = new Uint8Array(1024);
  }

  get size(): number {
    return this.rows.size;
  }

  get approximate(): boolean {
    return this.hnsw !== null;
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
    let r = this.rows.get(key);
    const replacing = r !== undefined;
    if (r === undefined) {
      r = this.rows.size;
      this.ensureCapacity(r + 1);
      this.rows.set(key, r);
      this.keys[r] = key;
    }
    this.matrix.set(vector, r * this.dim);
    this.metas[r] = meta;
    if (this.hnsw) {
      if (replacing) this.hnsw.remove(BigInt(r));
      this.hnsw.add(BigInt(r), this.matrix.slice(r * this.dim, (r + 1) * this.dim));
    } else if (this.rows.size >= this.options.approximateFrom) this.buildGraph();
  }

  /** The k best items by inner product with `query`, skipping those whose (key, meta) `accept` rejects. */
  search(query: Float32Array, k: number, accept?: (key: number, meta: number) => boolean, mode: 'auto' | 'exact' = 'auto'): Hit[] {
    if (this.hnsw && mode === 'auto') {
      const hits = this.searchGraph(query, k, accept);
      if (hits) return hits;
    }
    const accepted = accept ? (r: number) => accept(this.keys[r], this.metas[r]) : undefined;
    return this.toHits(topK(this.matrix, this.rows.size, this.dim, query, k, accepted));
  }

  private searchGraph(query: Float32Array, k: number, accept?: (key: number, meta: number) => boolean): Hit[] | null {
    const n = this.rows.size;
    for (let fetch = Math.min(n, accept ? k * 4 : k); ; fetch = Math.min(n, fetch * 4)) {
      const m = this.hnsw!.search(query, fetch, 0);
      const hits: Hit[] = [];
      for (let i = 0; i < m.keys.length && hits.length < k; i++) {
        const r = Number(m.keys[i]);
        if (accept && !accept(this.keys[r], this.metas[r])) continue;
        // usearch's inner-product distance is 1 - dot.
        hits.push({ key: this.keys[r], score: 1 - m.distances[i], meta: this.metas[r] });
      }
      if (hits.length >= k || fetch >= n) return hits;
      if (fetch >= 64 * k) return null; // a very selective filter: the exact scan is cheaper than more graph work
    }
  }

  private toHits(t: TopK): Hit[] {
    return Array.from(t.rows, (r, i) => ({ key: this.keys[r], score: t.scores[i], meta: this.metas[r] }));
  }

  private buildGraph(): void {
    const n = this.rows.size;
    const o = this.options;
    const index = new usearch.Index({ dimensions: this.dim, metric: 'ip', connectivity: o.connectivity, expansion_add: o.expansionAdd, expansion_search: o.expansionSearch } as never);
    const keys = new BigUint64Array(n);
    for (let r = 0; r < n; r++) keys[r] = BigInt(r);
    index.add(keys, this.matrix.slice(0, n * this.dim));
    this.hnsw = index;
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
