/**
 * The maturity curve of a served backbone (Figure 1 for the hybrid backbone, issue 16 point 2): how far a post's
 * served vector still is, after n views, from where all its views take it, measured on the backbone that serves.
 *
 * Glossary (D = the served width; users and posts are the served, bias-folded vectors, user . post = the score)
 *   c_p        post p's vector before any view (the hybrid: its tags-and-content part, what a cold post is served)
 *   delta_n    the id part fitted on the distinct users of p's first n positives, everything else frozen (a warm
 *              start of the batch model: the other posts and the users barely move when one post gains views):
 *                min_delta  mean_(u, j) softplus(-(u . (c_p + delta) - u . x_j)) + lambda/2 |delta|^2
 *              over each such user u with `negatives` posts j drawn among the others (BPR, as the backbone), drawn
 *              per (post, user); the mean over distinct users makes the objective depend on which users came, not
 *              on how many times: a post whose audience stops changing stops moving
 *   v_p(n)     c_p + delta_n;  v_p(all) uses every positive p has
 *   dist(n)    mean over posts with at least 2n positives of |v_p(n) - v_p(all)| / |v_p(all) - c_p|: the share of the
 *              way still to go (1 at n = 0), not a step between snapshots, so it does not grow with a snapshot interval
 *   M          findThreshold: the first n after which dist stays below epsilon (0.05: the vector has less than 5% of
 *              its way left to go, i.e. it no longer moves)
 *   grid       n = 1, 2, 3, ... growing by 20% a step (n_{k+1} = max(n_k + 1, round(1.2 n_k))), so M is read to +-10%
 */
import { Rng } from '../../lib/random.js';
import { findThreshold, type MaturityCurve } from './curve.js';

export interface RefitOptions {
  /** dist below which a post counts as settled */
  readonly epsilon: number;
  /** posts (those with the most positives first, ties by index) the curve averages over */
  readonly posts: number;
  /** negatives per positive */
  readonly negatives: number;
  /** gradient steps per fit (full batch, Nesterov momentum 0.9) */
  readonly iterations: number;
  readonly lr: number;
  readonly lambda: number;
  /** points with fewer posts than this are not used for M */
  readonly minPosts: number;
  readonly seed: number;
}

export const DEFAULT_REFIT_OPTIONS: RefitOptions = Object.freeze({ epsilon: 0.05, posts: 200, negatives: 4, iterations: 60, lr: 0.5, lambda: 1e-3, minPosts: 20, seed: 1 });

export interface RefitInput {
  key: string;
  signal: string;
  mediaType: string | null;
  /** D */
  d: number;
  /** users x D */
  users: Float32Array;
  /** items x D: the served vectors (negatives are scored with them) */
  posts: Float32Array;
  /** items x D: c_p, each post's vector before its first view */
  start: Float32Array;
  /** per candidate post (global index), its positive users in time order */
  positives: ReadonlyMap<number, Int32Array>;
  /** posts negatives are drawn from */
  pool: Int32Array;
}

/** n = 1, 2, 3, ... growing by 20% a step, up to max. */
export function refitGrid(max: number): number[] {
  const out: number[] = [];
  for (let n = 1; n <= max; n = Math.max(n + 1, Math.round(n * 1.2))) out.push(n);
  return out;
}

/** delta fitted on users[0..n) of one post (distinct; negatives[a * K ..] are user a's), see the header; D values. */
export function fitDelta(input: RefitInput, post: number, users: Int32Array, n: number, negatives: Int32Array, o: RefitOptions): Float64Array {
  const D = input.d;
  const U = input.users;
  const base = new Float64Array(n * o.negatives); // u . c_p - u . x_j, fixed during the fit
  for (let a = 0; a < n; a++) {
    const u = users[a] * D;
    let uc = 0;
    for (let j = 0; j < D; j++) uc += U[u + j] * input.start[post * D + j];
    for (let b = 0; b < o.negatives; b++) {
      const x = negatives[a * o.negatives + b] * D;
      let ux = 0;
      for (let j = 0; j < D; j++) ux += U[u + j] * input.posts[x + j];
      base[a * o.negatives + b] = uc - ux;
    }
  }
  const delta = new Float64Array(D);
  const velocity = new Float64Array(D);
  const look = new Float64Array(D);
  const grad = new Float64Array(D);
  const pairs = n * o.negatives;
  for (let it = 0; it < o.iterations; it++) {
    for (let j = 0; j < D; j++) look[j] = delta[j] + 0.9 * velocity[j];
    for (let j = 0; j < D; j++) grad[j] = o.lambda * look[j];
    for (let a = 0; a < n; a++) {
      const u = users[a] * D;
      let ud = 0;
      for (let j = 0; j < D; j++) ud += U[u + j] * look[j];
      let w = 0;
      for (let b = 0; b < o.negatives; b++) w += 1 / (1 + Math.exp(base[a * o.negatives + b] + ud)); // sigma(-x)
      const g = -w / pairs;
      for (let j = 0; j < D; j++) grad[j] += g * U[u + j];
    }
    for (let j = 0; j < D; j++) {
      velocity[j] = 0.9 * velocity[j] - o.lr * grad[j];
      delta[j] += velocity[j];
    }
  }
  return delta;
}

/** The curve and M (the MaturityCurve of the replay, so reports and plots take either). */
export function refitCurve(input: RefitInput, options: Partial<RefitOptions> = {}): MaturityCurve {
  const o = { ...DEFAULT_REFIT_OPTIONS, ...options };
  const D = input.d;
  const ranked = [...input.positives.entries()].filter(([, u]) => u.length >= 2).sort((a, b) => b[1].length - a[1].length || a[0] - b[0]).slice(0, o.posts);
  const maxViews = ranked.length ? Math.floor(ranked[0][1].length / 2) : 0;
  const views = refitGrid(maxViews);
  const sum = new Float64Array(views.length);
  const count = new Int32Array(views.length);
  for (const [post, users] of ranked) {
    // The distinct users in order of first arrival, and after n positives how many of them had come.
    const seen = new Set<number>();
    const distinct: number[] = [];
    const upTo = new Int32Array(users.length + 1);
    users.forEach((u, a) => {
      if (!seen.has(u)) (seen.add(u), distinct.push(u));
      upTo[a + 1] = distinct.length;
    });
    const audience = Int32Array.from(distinct);
    // Negatives drawn per (post, user), shared by every n: the fits differ only in the users they see.
    const negatives = new Int32Array(audience.length * o.negatives);
    const rng = new Rng(o.seed ^ Math.imul(post + 1, 0x9e3779b1));
    for (let k = 0; k < negatives.length; k++) {
      const j = input.pool[rng.int(input.pool.length)];
      negatives[k] = j === post && input.pool.length > 1 ? input.pool[(input.pool.indexOf(j) + 1) % input.pool.length] : j;
    }
    const all = fitDelta(input, post, audience, audience.length, negatives, o);
    let span = 0;
    for (let j = 0; j < D; j++) span += all[j] * all[j];
    if (!(span > 0)) continue;
    views.forEach((n, g) => {
      if (users.length < 2 * n) return;
      const dn = fitDelta(input, post, audience, upTo[n], negatives, o);
      let s = 0;
      for (let j = 0; j < D; j++) s += (dn[j] - all[j]) ** 2;
      sum[g] += Math.sqrt(s / span);
      count[g]++;
    });
  }
  const distance = Array.from(sum, (s, g) => (count[g] ? s / count[g] : NaN));
  const counts = Array.from(count);
  return {
    key: input.key, signal: input.signal, mediaType: input.mediaType, compare: 'refit', snapshotEvery: 0,
    views, distance, count: counts, epsilon: o.epsilon, minPosts: o.minPosts,
    threshold: findThreshold(views, distance, counts, o.epsilon, o.minPosts),
  };
}
