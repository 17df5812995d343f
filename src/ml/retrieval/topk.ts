/**
 * Exact maximum-inner-product search: the k rows of a row-major matrix with the largest dot product with a query,
 * optionally skipping rows a predicate rejects. A size-k min-heap keeps the scan O(n d + n log k) with no allocation
 * per row. Ties break towards the lower row index, so results are deterministic.
 */
export interface TopK {
  rows: Int32Array;
  scores: Float32Array;
}

export function topK(matrix: Float32Array, n: number, dim: number, query: Float32Array, k: number, accept?: (row: number) => boolean): TopK {
  const size = Math.min(k, n);
  const heapRows = new Int32Array(size);
  const heapScores = new Float64Array(size);
  let filled = 0;
  for (let r = 0; r < n; r++) {
    if (accept && !accept(r)) continue;
    const base = r * dim;
    let s = 0;
    let j = 0;
    for (; j + 3 < dim; j += 4) {
      s += matrix[base + j] * query[j] + matrix[base + j + 1] * query[j + 1] + matrix[base + j + 2] * query[j + 2] + matrix[base + j + 3] * query[j + 3];
    }
    for (; j < dim; j++) s += matrix[base + j] * query[j];
    if (filled < size) {
      heapRows[filled] = r;
      heapScores[filled] = s;
      siftUp(heapRows, heapScores, filled++);
    } else if (size > 0 && s > heapScores[0]) {
      heapRows[0] = r;
      heapScores[0] = s;
      siftDown(heapRows, heapScores, 0, size);
    }
  }
  // Sort the heap's contents by score descending (then row ascending).
  const order = Array.from({ length: filled }, (_, i) => i).sort((a, b) => heapScores[b] - heapScores[a] || heapRows[a] - heapRows[b]);
  return { rows: Int32Array.from(order, (i) => heapRows[i]), scores: Float32Array.from(order, (i) => heapScores[i]) };
}

/** Min-heap on score; among equal scores the higher row is "smaller", so it is evicted first. */
function less(rows: Int32Array, scores: Float64Array, a: number, b: number): boolean {
  return scores[a] < scores[b] || (scores[a] === scores[b] && rows[a] > rows[b]);
}

function swap(rows: Int32Array, scores: Float64Array, a: number, b: number): void {
  const r = rows[a];
  rows[a] = rows[b];
  rows[b] = r;
  const s = scores[a];
  scores[a] = scores[b];
  scores[b] = s;
}

function siftUp(rows: Int32Array, scores: Float64Array, i: number): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(rows, scores, i, p)) return;
    swap(rows, scores, i, p);
    i = p;
  }
}

function siftDown(rows: Int32Array, scores: Float64Array, i: number, n: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < n && less(rows, scores, l, m)) m = l;
    if (r < n && less(rows, scores, r, m)) m = r;
    if (m === i) return;
    swap(rows, scores, i, m);
    i = m;
  }
}
