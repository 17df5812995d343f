/**
 * Exact maximum-inner-product top-k through onnxruntime (Gemm + TopK, see mips-graph.ts), for one query or a batch.
 * Sessions come from the project's OnnxRuntime (the one owner of sessions); this module never creates its own.
 *
 * Two ways to hold the item matrix X [n, d]:
 * - 'input' (default): X is a graph input. onnxruntime-node wraps the Float32Array it is given without copying, so
 *   each run costs the same as with a frozen matrix, and the matrix can grow or change between runs (setItems) with
 *   no new session. This is what VectorStore uses.
 * - 'initializer': X is frozen into the model. Any change needs a new session (seconds at 1M rows, plus one more
 *   copy of X per session). Kept for the bench's comparison.
 *
 * Filters, cheapest first:
 * - exclude: rows to leave out (a user's seen posts). The run over-fetches k + |exclude| and drops them: no mask.
 * - accept: a row predicate (media type, stage...). The run over-fetches 4k and filters; when that leaves fewer than
 *   k, it builds a -Infinity mask from the predicate (one call per row) and runs the masked graph, which is exact.
 * - bias: a caller-built additive mask over rows (0 keeps, -Infinity drops), e.g. one cached per filter value;
 *   runs the masked graph directly.
 */
import type { OnnxRuntime } from '../onnx/runtime.js';
import type { Feed, Session } from '../onnx/session.js';
import { MAX_ORT_ROWS, mipsTopKModel } from './mips-graph.js';
import type { TopK } from './topk.js';

export type MatrixPlacement = 'input' | 'initializer';

export interface ExactFilter {
  /** rows to leave out */
  readonly exclude?: ReadonlySet<number>;
  /** keep only rows the predicate accepts */
  readonly accept?: (row: number) => boolean;
  /** additive mask over the n rows: 0 keeps, -Infinity drops (shared by every query of a batch) */
  readonly bias?: Float32Array;
}

/** Over-fetch factor for predicate filters before falling back to a full mask. */
const ACCEPT_OVERFETCH = 4;

export class OrtExactSearch {
  private plain: Promise<Session> | undefined;
  private masked: Promise<Session> | undefined;
  private items: Float32Array;
  private n: number;

  private constructor(
    private readonly runtime: OnnxRuntime,
    readonly dim: number,
    readonly placement: MatrixPlacement,
    items: Float32Array,
    n: number,
  ) {
    this.items = items;
    this.n = n;
  }

  /**
   * A searcher over the first n rows of `items` (row-major, n x dim). With 'input' the array is read by reference at
   * every run (later writes to it are seen); with 'initializer' it is copied into the model now.
   */
  static async create(runtime: OnnxRuntime, items: Float32Array, n: number, dim: number, placement: MatrixPlacement = 'input'): Promise<OrtExactSearch> {
    const s = new OrtExactSearch(runtime, dim, placement, new Float32Array(0), 0);
    s.setItems(items, n);
    await s.session(false);
    return s;
  }

  get size(): number {
    return this.n;
  }

  /** Point an 'input' searcher at a (new, grown or same) matrix; only its first n x dim values are read. */
  setItems(items: Float32Array, n: number): void {
    if (this.placement === 'initializer' && this.plain) throw new Error('a frozen (initializer) matrix cannot change; create a new OrtExactSearch');
    if (n >= MAX_ORT_ROWS) throw new RangeError(`${n} rows: row indices come back as float32, exact only below ${MAX_ORT_ROWS}`);
    if (items.length < n * this.dim) throw new RangeError(`matrix has ${items.length} values, need ${n} x ${this.dim}`);
    this.items = items; // by reference: onnxruntime-node reads views at their byteOffset (tested)
    this.n = n;
  }

  /** The top k rows for one query (length dim). */
  async search(query: Float32Array, k: number, filter: ExactFilter = {}): Promise<TopK> {
    if (query.length !== this.dim) throw new RangeError(`query of length ${query.length}, expected ${this.dim}`);
    return (await this.searchBatch(query, k, filter))[0];
  }

  /** The top k rows for each of the B = queries.length / dim queries (row-major); one filter for all of them. */
  async searchBatch(queries: Float32Array, k: number, filter: ExactFilter = {}): Promise<TopK[]> {
    const b = queries.length / this.dim;
    if (!Number.isInteger(b)) throw new RangeError(`queries of length ${queries.length} are not rows of ${this.dim}`);
    const want = Math.min(k, this.n);
    if (b === 0 || want <= 0) return Array.from({ length: b }, () => ({ rows: new Int32Array(0), scores: new Float32Array(0) }));
    const exclude = filter.exclude;
    const extra = exclude?.size ?? 0;
    const keep = (row: number, score: number) => score !== -Infinity && !exclude?.has(row) && (!filter.accept || filter.accept(row));
    if (filter.bias) return this.collect(await this.run(queries, b, want + extra, filter.bias), b, want, keep);
    const fetch = filter.accept ? want * ACCEPT_OVERFETCH + extra : want + extra;
    const out = this.collect(await this.run(queries, b, fetch, undefined), b, want, keep);
    if (!filter.accept || fetch >= this.n || out.every((t) => t.rows.length >= want)) return out;
    // The predicate rejects too many of the best rows: mask every rejected row and run exactly.
    const bias = new Float32Array(this.n);
    for (let r = 0; r < this.n; r++) if (!filter.accept(r)) bias[r] = -Infinity;
    return this.collect(await this.run(queries, b, want + extra, bias), b, want, keep);
  }

  async dispose(): Promise<void> {
    for (const p of [this.plain, this.masked]) if (p) await (await p).dispose();
    this.plain = this.masked = undefined;
  }

  private session(masked: boolean): Promise<Session> {
    const make = () => {
      const frozen = this.placement === 'initializer' ? { data: this.items.subarray(0, this.n * this.dim), rows: this.n } : undefined;
      const p = this.runtime.createSession(mipsTopKModel({ dim: this.dim, masked, frozen }), masked ? 'mips-topk-masked' : 'mips-topk');
      p.catch(() => (masked ? (this.masked = undefined) : (this.plain = undefined))); // a failed build is retried next time
      return p;
    };
    if (masked) return (this.masked ??= make());
    return (this.plain ??= make());
  }

  private async run(queries: Float32Array, b: number, k: number, bias: Float32Array | undefined): Promise<{ scores: Float32Array; rows: Float32Array; k: number }> {
    const kk = Math.min(k, this.n);
    const feeds: Record<string, Feed> = { queries: { data: queries, dims: [b, this.dim] }, k: { data: Float32Array.of(kk), dims: [1] } };
    if (this.placement === 'input') feeds.items = { data: this.items.length === this.n * this.dim ? this.items : this.items.subarray(0, this.n * this.dim), dims: [this.n, this.dim] };
    if (bias) {
      if (bias.length !== this.n) throw new RangeError(`bias of length ${bias.length} over ${this.n} rows`);
      feeds.bias = { data: bias, dims: [this.n] };
    }
    const out = await (await this.session(bias !== undefined)).run(feeds, ['scores', 'rows']);
    return { scores: out.scores.data, rows: out.rows.data, k: kk };
  }

  private collect(r: { scores: Float32Array; rows: Float32Array; k: number }, b: number, want: number, keep: (row: number, score: number) => boolean): TopK[] {
    const result: TopK[] = [];
    for (let q = 0; q < b; q++) {
      const rows = new Int32Array(want);
      const scores = new Float32Array(want);
      let m = 0;
      for (let i = q * r.k; i < (q + 1) * r.k && m < want; i++) {
        const row = r.rows[i];
        if (!keep(row, r.scores[i])) continue;
        rows[m] = row;
        scores[m++] = r.scores[i];
      }
      result.push({ rows: rows.subarray(0, m), scores: scores.subarray(0, m) });
    }
    return result;
  }
}
