/**
 * The embedding-maturity curve of the paper's Figure 1 and the threshold M read from it.
 *
 * Glossary
 *   d            views between two snapshots of a post's embedding
 *   v_p(n)       post p's embedding (latent vector towards the user field) right after its n-th view
 *   dist(n)      consecutive: mean over posts with at least n views of 1 - cos(v_p(n - d), v_p(n)), for n = d, 2d, ...
 *                (v_p(0) is the initial vector, so the first point measures the move away from initialisation);
 *                doubling: 1 - cos(v_p(n / 2), v_p(n)) for n = 2, 4, 6, 8, 12, 16, 24, ..., which does not depend on
 *                a snapshot interval (a consecutive curve with d = 1 reads single AdaGrad steps, so sparse signals
 *                fall below epsilon after one or two views)
 *   count(n)     posts that contributed to dist(n)
 *   epsilon      distance below which an embedding counts as no longer moving
 *   M            the first n such that dist(n') < epsilon for every n' >= n with count(n') >= minPosts
 */

export interface MaturityCurve {
  /** `signal` or `signal/mediaType`. */
  readonly key: string;
  readonly signal: string;
  readonly mediaType: string | null;
  /** 'consecutive' (v(n - d) vs v(n)), 'doubling' (v(n / 2) vs v(n)), or 'refit' (v(n) vs v(all) on the served backbone, refit.ts); absent = consecutive. */
  readonly compare?: 'consecutive' | 'doubling' | 'refit';
  /** d (0 for a doubling curve). */
  readonly snapshotEvery: number;
  /** n = d, 2d, ... */
  readonly views: number[];
  /** dist(n); NaN where no post reached n views. */
  readonly distance: number[];
  /** count(n). */
  readonly count: number[];
  readonly epsilon: number;
  readonly minPosts: number;
  /** M, or null when the curve does not settle below epsilon (or has no usable point). */
  readonly threshold: number | null;
}

/** M from a curve: the first view count after which every usable point (count >= minPosts) stays below epsilon. */
export function findThreshold(views: ArrayLike<number>, distance: ArrayLike<number>, count: ArrayLike<number>, epsilon: number, minPosts = 1): number | null {
  if (views.length !== distance.length || views.length !== count.length) {
    throw new RangeError(`curve columns differ in length: ${views.length} views, ${distance.length} distances, ${count.length} counts`);
  }
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be > 0, got ${epsilon}`);
  // Walk back from the end while usable points stay below epsilon; the last one reached is M.
  let threshold: number | null = null;
  for (let i = views.length - 1; i >= 0; i--) {
    if (!(count[i] >= minPosts) || !Number.isFinite(distance[i])) continue;
    if (distance[i] >= epsilon) break;
    threshold = views[i];
  }
  return threshold;
}

/** Cosine distance 1 - a.b / (|a| |b|) between a[ao .. ao+k) and b[bo .. bo+k); NaN when either vector is zero. */
export function cosineDistance(a: Float32Array, ao: number, b: Float32Array, bo: number, k: number): number {
  let dot = 0, na = 0, nb = 0;
  for (let d = 0; d < k; d++) {
    const x = a[ao + d], y = b[bo + d];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return NaN;
  return 1 - dot / Math.sqrt(na * nb);
}
