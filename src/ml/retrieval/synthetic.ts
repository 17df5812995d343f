/**
 * Synthetic embedding sets for retrieval tests and benches (no real data needed).
 *
 * - `randomVectors`: i.i.d. N(0, 1) coordinates. Every direction is equally likely, so there is no cluster structure
 *   for an ANN graph to exploit: the hardest case for HNSW recall.
 * - `structuredVectors`: what factorisation-machine (FFM) embeddings look like: most of the variance in a few latent
 *   directions (low rank), a little isotropic noise, and norms that vary a lot between items (popular items grow long
 *   vectors), so inner-product ranking is driven by norm as well as direction.
 *
 * Glossary
 *   n, d     rows and dimension
 *   r        latent rank of the structured set (r << d)
 *   B        the d x r mixing matrix shared by posts and users (so users "like" the same directions posts lie in)
 *   z        an r-d latent factor per row, N(0, 1)
 *   sigma    per-row norm scale, log-normal: exp(N(0, normSpread))
 *   noise    isotropic N(0, noise^2) added to each coordinate
 */
import { Rng } from '../../lib/random.js';

export function randomVectors(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = rng.gaussian();
  return out;
}

export interface StructuredOptions {
  /** latent rank r */
  readonly rank: number;
  /** standard deviation of isotropic noise per coordinate (the low-rank part has unit scale per latent factor) */
  readonly noise: number;
  /** log-normal spread of per-row norms (0 = all rows of similar norm) */
  readonly normSpread: number;
  /** seed of the shared mixing matrix B: posts and users generated with the same value share their latent space */
  readonly spaceSeed: number;
}

export const DEFAULT_STRUCTURED: StructuredOptions = Object.freeze({ rank: 8, noise: 0.15, normSpread: 0.5, spaceSeed: 1 });

/** n rows of x = sigma * (B z + noise) / sqrt(r), row-major. */
export function structuredVectors(n: number, dim: number, seed: number, options: Partial<StructuredOptions> = {}): Float32Array {
  const o = { ...DEFAULT_STRUCTURED, ...options };
  const space = new Rng(o.spaceSeed);
  const mix = new Float64Array(dim * o.rank);
  for (let i = 0; i < mix.length; i++) mix[i] = space.gaussian();
  const rng = new Rng(seed);
  const z = new Float64Array(o.rank);
  const out = new Float32Array(n * dim);
  const scale = 1 / Math.sqrt(o.rank);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < o.rank; j++) z[j] = rng.gaussian();
    const sigma = Math.exp(o.normSpread * rng.gaussian());
    for (let c = 0; c < dim; c++) {
      let s = 0;
      for (let j = 0; j < o.rank; j++) s += mix[c * o.rank + j] * z[j];
      out[r * dim + c] = sigma * (s * scale + o.noise * rng.gaussian());
    }
  }
  return out;
}
