/**
 * Approximate maximum-inner-product search over HNSW graphs (usearch), keyed by row number.
 *
 * HNSW is a nearest-neighbour method; inner product is not a distance, and an HNSW graph built with the raw 'ip'
 * metric on vectors whose norms vary a lot reaches a recall ceiling (long vectors become hubs, the rest become hard
 * to reach: measured here, recall@50 stopped near 0.86 on FFM-like vectors however wide the search). Two reductions:
 *
 * - 'ip': one graph with usearch's inner-product metric. Right when norms are nearly equal (then MIPS is cosine
 *   search), e.g. random vectors (recall@50 0.97 at expansion 400 on 200k random 32-d vectors).
 * - 'norm-ranges': rows split into R ranges by norm (quantiles at build time). Range i, whose norms are at most M_i,
 *   holds each row x as x' = [x, sqrt(M_i^2 - |x|^2)] in an L2 graph; a query q is searched as q' = [q, 0], since
 *   |q' - x'|^2 = |q|^2 + M_i^2 - 2 q.x ranks a range exactly as the inner product does (the standard MIPS-to-L2
 *   reduction; Bachrach et al. 2014, with norm ranges as in Yan et al. 2018 so the extra coordinate stays small).
 *   Ranges are searched from the longest norms down; range i is skipped once M_i |q| cannot beat the k-th best
 *   score found so far (q.x <= |x||q| <= M_i |q|), which on FFM-like data usually leaves one range to search.
 *   A row longer than every M_i (a later upsert) opens a new top range with M = 1.25 |x|.
 * - 'auto' picks 'ip' when the coefficient of variation of the row norms is below AUTO_NORM_CV, else 'norm-ranges'.
 *
 * Scores returned are exact inner products recomputed from the caller's matrix (float64 accumulation, as topk.ts).
 */
import { createRequire } from 'node:module';
import type * as Usearch from 'usearch';

// usearch's ESM entry cannot find its native build when loaded through tsx's loader; its CommonJS entry can.
const usearch = createRequire(import.meta.url)('usearch') as typeof Usearch;

export type MipsReduction = 'ip' | 'norm-ranges';

export interface MipsGraphOptions {
  dim: number;
  reduction: MipsReduction | 'auto';
  /** number of norm ranges for 'norm-ranges' */
  ranges: number;
  /** HNSW degree (usearch connectivity) */
  connectivity: number;
  /** HNSW candidate list while inserting */
  expansionAdd: number;
  /** HNSW candidate list while searching (at least the number of results asked for) */
  expansionSearch: number;
  /** threads for bulk inserts (0 = all cores); single inserts and searches use the calling thread */
  threads: number;
}

/** Norm coefficient of variation below which 'auto' uses the plain inner-product graph. */
export const AUTO_NORM_CV = 0.25;

type UIndex = InstanceType<typeof usearch.Index>;

interface Range {
  /** upper bound of the norms of this range's rows (Infinity for the single 'ip' graph) */
  maxNorm: number;
  index: UIndex;
}

export interface GraphHits {
  rows: number[];
  scores: number[];
  /**
   * False when the filter may have hidden better rows: some range searched returned all `fetch` candidates asked for
   * with fewer than k of them accepted, so its next candidates were never looked at (ask again with a larger fetch).
   */
  complete: boolean;
}

export function rowNorms(matrix: Float32Array, n: number, dim: number): Float64Array {
  const norms = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) s += matrix[j] * matrix[j];
    norms[r] = Math.sqrt(s);
  }
  return norms;
}

/** 'ip' or 'norm-ranges' for these norms under 'auto' (see AUTO_NORM_CV). */
export function chooseReduction(norms: Float64Array): MipsReduction {
  if (norms.length === 0) return 'ip';
  let sum = 0;
  let sq = 0;
  for (const x of norms) {
    sum += x;
    sq += x * x;
  }
  const mean = sum / norms.length;
  const cv = mean > 0 ? Math.sqrt(Math.max(0, sq / norms.length - mean * mean)) / mean : 0;
  return cv < AUTO_NORM_CV ? 'ip' : 'norm-ranges';
}

export class MipsGraphIndex {
  readonly reduction: MipsReduction;
  /** ascending maxNorm */
  private readonly ranges: Range[] = [];
  /** range index of each row, -1 = not in the graph */
  private rangeOf = new Int16Array(0);
  /** one stored-form vector or query (usearch may ignore a view's byteOffset, so queries are copied here first) */
  private readonly scratch: Float32Array;

  /** Build over rows 0..n-1 of `matrix` with bulk (multi-threaded) inserts. */
  constructor(
    private readonly o: MipsGraphOptions,
    matrix: Float32Array,
    n: number,
  ) {
    const norms = rowNorms(matrix, n, o.dim);
    this.reduction = o.reduction === 'auto' ? chooseReduction(norms) : o.reduction;
    this.scratch = new Float32Array(this.reduction === 'ip' ? o.dim : o.dim + 1);
    this.grow(n);
    if (this.reduction === 'ip') {
      this.ranges.push({ maxNorm: Infinity, index: this.newIndex('ip') });
    } else {
      const sorted = Float64Array.from(norms).sort();
      const count = Math.max(1, Math.min(this.o.ranges, n));
      for (let i = 0; i < count; i++) {
        const hi = sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(((i + 1) * sorted.length) / count) - 1)] : 1;
        const maxNorm = i === count - 1 ? hi * 1.05 : hi;
        if (this.ranges.length && maxNorm <= this.ranges[this.ranges.length - 1].maxNorm) continue; // repeated quantiles
        this.ranges.push({ maxNorm, index: this.newIndex('l2sq') });
      }
    }
    const all = new Int32Array(n);
    for (let r = 0; r < n; r++) all[r] = r;
    this.addMany(all, matrix, norms);
  }

  /** Ranges in the graph (for reports): their norm bound and item count. */
  get shape(): { maxNorm: number; size: number }[] {
    return this.ranges.map((r) => ({ maxNorm: r.maxNorm, size: r.index.size() }));
  }

  get size(): number {
    return this.ranges.reduce((s, r) => s + r.index.size(), 0);
  }

  /** Insert or move `row` (its vector is `matrix` row `row`), on the calling thread. */
  upsert(row: number, matrix: Float32Array): void {
    this.remove(row);
    this.grow(row + 1);
    const norm = rowNorms(matrix.subarray(row * this.o.dim, (row + 1) * this.o.dim), 1, this.o.dim)[0];
    const ri = this.rangeFor(norm);
    const range = this.ranges[ri];
    range.index.add(BigInt(row), this.encode(matrix, row, norm, range.maxNorm, this.scratch, 0), 1);
    this.rangeOf[row] = ri;
  }

  /** Insert many rows at once (multi-threaded); rows already in the graph are moved. */
  addMany(rows: Int32Array, matrix: Float32Array, norms?: Float64Array): void {
    const d = this.o.dim;
    const byRange = new Map<number, number[]>();
    let maxRow = -1;
    for (const r of rows) maxRow = Math.max(maxRow, r);
    this.grow(maxRow + 1);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      this.remove(r);
      const norm = norms ? norms[r] : rowNorms(matrix.subarray(r * d, (r + 1) * d), 1, d)[0];
      const ri = this.rangeFor(norm);
      let list = byRange.get(ri);
      if (!list) byRange.set(ri, (list = []));
      list.push(r);
    }
    for (const [ri, list] of byRange) {
      const range = this.ranges[ri];
      const width = this.reduction === 'ip' ? d : d + 1;
      const vectors = new Float32Array(list.length * width);
      const keys = new BigUint64Array(list.length);
      list.forEach((r, i) => {
        const norm = norms ? norms[r] : rowNorms(matrix.subarray(r * d, (r + 1) * d), 1, d)[0];
        this.encode(matrix, r, norm, range.maxNorm, vectors, i * width);
        keys[i] = BigInt(r);
        this.rangeOf[r] = ri;
      });
      range.index.add(keys, vectors, this.o.threads);
    }
  }

  remove(row: number): void {
    if (row >= this.rangeOf.length) return;
    const ri = this.rangeOf[row];
    if (ri < 0) return;
    this.ranges[ri].index.remove(BigInt(row));
    this.rangeOf[row] = -1;
  }

  /**
   * Up to k accepted rows with the largest inner product with `query`, best first. Each range searched returns
   * `fetch` (>= k) candidates; a range is skipped once its norm bound cannot beat the k-th accepted score.
   */
  search(query: Float32Array, k: number, fetch: number, matrix: Float32Array, accept?: (row: number) => boolean): GraphHits {
    const d = this.o.dim;
    let qn = 0;
    for (let j = 0; j < d; j++) qn += query[j] * query[j];
    qn = Math.sqrt(qn);
    const q = this.scratch;
    q.set(query.subarray(0, d));
    if (this.reduction !== 'ip') q[d] = 0;
    const rows: number[] = [];
    const scores: number[] = [];
    let complete = true;
    for (let ri = this.ranges.length - 1; ri >= 0; ri--) {
      const range = this.ranges[ri];
      if (rows.length >= k && range.maxNorm * qn <= scores[k - 1]) break;
      const size = range.index.size();
      if (size === 0) continue;
      const asked = Math.min(size, Math.max(fetch, k));
      const m = range.index.search(q, asked, 1);
      let accepted = 0;
      for (let i = 0; i < m.keys.length; i++) {
        const r = Number(m.keys[i]);
        if (accept && !accept(r)) continue;
        accepted++;
        let s = 0;
        for (let j = 0; j < d; j++) s += matrix[r * d + j] * query[j];
        insertSorted(rows, scores, r, s, k);
      }
      if (accepted < k && m.keys.length === asked && asked < size) complete = false;
    }
    return { rows, scores, complete };
  }

  /**
   * The bare usearch call that `search` starts with: one search of the longest-norm range for k rows, with the query
   * already in stored form and no scoring or merging. For benches (the "raw index" figure beside `search`).
   */
  rawSearch(query: Float32Array, k: number): number {
    const q = this.scratch;
    q.set(query.subarray(0, this.o.dim));
    if (this.reduction !== 'ip') q[this.o.dim] = 0;
    const top = this.ranges[this.ranges.length - 1].index;
    return top.search(q, Math.min(k, top.size()), 1).keys.length;
  }

  private newIndex(metric: 'ip' | 'l2sq'): UIndex {
    const o = this.o;
    return new usearch.Index({
      dimensions: metric === 'ip' ? o.dim : o.dim + 1, metric, quantization: 'f32', connectivity: o.connectivity,
      expansion_add: o.expansionAdd, expansion_search: o.expansionSearch, multi: false,
    } as never);
  }

  private rangeFor(norm: number): number {
    for (let i = 0; i < this.ranges.length; i++) if (norm <= this.ranges[i].maxNorm) return i;
    this.ranges.push({ maxNorm: norm * 1.25, index: this.newIndex('l2sq') });
    return this.ranges.length - 1;
  }

  /** Write row `r` into out[at..] in the form its range stores. */
  private encode(matrix: Float32Array, r: number, norm: number, maxNorm: number, out: Float32Array, at: number): Float32Array {
    const d = this.o.dim;
    out.set(matrix.subarray(r * d, (r + 1) * d), at);
    if (this.reduction !== 'ip') out[at + d] = Math.sqrt(Math.max(0, maxNorm * maxNorm - norm * norm));
    return out;
  }

  private grow(rows: number): void {
    if (rows <= this.rangeOf.length) return;
    const next = new Int16Array(Math.max(rows, this.rangeOf.length * 2, 1024)).fill(-1);
    next.set(this.rangeOf);
    this.rangeOf = next;
  }
}

/** Keep the best `k` (score descending, row ascending on ties) in parallel sorted arrays. */
function insertSorted(rows: number[], scores: number[], r: number, s: number, k: number): void {
  let i = rows.length;
  if (i >= k && (s < scores[k - 1] || (s === scores[k - 1] && r > rows[k - 1]))) return;
  while (i > 0 && (scores[i - 1] < s || (scores[i - 1] === s && rows[i - 1] > r))) i--;
  rows.splice(i, 0, r);
  scores.splice(i, 0, s);
  if (rows.length > k) {
    rows.length = k;
    scores.length = k;
  }
}
