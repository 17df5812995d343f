/** Shared fixtures for the retrieval tests. */
import { Rng } from '../../../src/lib/random.js';

/** All rows sorted by score descending, then row ascending (float64 dot products, as topK accumulates). */
export function bruteForce(matrix: Float32Array, n: number, dim: number, query: Float32Array, accept?: (r: number) => boolean): { rows: number[]; scores: number[] } {
  const all: [number, number][] = [];
  for (let r = 0; r < n; r++) {
    if (accept && !accept(r)) continue;
    let s = 0;
    for (let j = 0; j < dim; j++) s += matrix[r * dim + j] * query[j];
    all.push([r, s]);
  }
  all.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return { rows: all.map((x) => x[0]), scores: all.map((x) => x[1]) };
}

/** Small integer entries: dot products are exact and many of them tie. */
export function integerMatrix(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.int(5) - 2);
}

