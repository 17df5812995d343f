/**
 * MEMER against each baseline on the same scored rows: the paired difference in GAUC and in pooled AUC with a
 * percentile bootstrap interval that resamples posts, and a verdict.
 *
 *   resample   draw the G evaluated posts (rows.group) G times with replacement; a post drawn c times weighs its rows
 *              by c (ranking.ts), so every method is scored on the same resample (the pairing) and the rows of one
 *              post, which share its embedding, move together (posts, not rows, are the independent unit: the new
 *              thing whose embedding is being judged)
 *   diff       metric(MEMER) - metric(baseline) on the rows as they are
 *   ci         the (1 - level)/2 and (1 + level)/2 quantiles of the resampled differences
 *   verdict    win when ci[0] > 0, loss when ci[1] < 0, tie otherwise; null for an insufficient group (too few
 *              rows or posts to say), which is reported but never counted as a win or a loss
 */
import type { MediaType } from '../../datasets/types.js';
import { Rng } from '../../lib/random.js';
import { gaucOf, pooledAuc, type ScoreOrder } from './ranking.js';
import { postIndex, type EvalRows } from './scoring.js';
import type { Method } from './types.js';

export type ComparisonMetric = 'gauc' | 'auc';
export type Verdict = 'win' | 'loss' | 'tie';

export interface Comparison {
  signal: string;
  mediaType: MediaType;
  phase: string;
  method: Method;
  baseline: Method;
  metric: ComparisonMetric;
  diff: number;
  ci: [number, number];
  verdict: Verdict | null;
  insufficient: boolean;
}

export interface BootstrapOptions {
  resamples: number;
  level: number;
  seed: number;
}

/** The evaluated posts of `rows` (the bootstrap unit). */
export function postsOf(rows: EvalRows): number {
  return postIndex(rows).posts;
}

const metricOf = (o: ScoreOrder, metric: ComparisonMetric, w: Float64Array | null) => (metric === 'gauc' ? gaucOf(o, w).gauc : pooledAuc(o, w));

/**
 * Paired differences of `model` against each of `baselines` (indices into `orders`), for both metrics. A resample where
 * a metric is undefined for either side (every drawn row of one class) is skipped; the interval is NaN when fewer than
 * half of the resamples define it.
 */
export function pairedBootstrap(rows: EvalRows, orders: readonly ScoreOrder[], model: number, baselines: readonly number[], o: BootstrapOptions): { baseline: number; metric: ComparisonMetric; diff: number; ci: [number, number] }[] {
  const metrics: ComparisonMetric[] = ['gauc', 'auc'];
  const { of, posts } = postIndex(rows);
  const counts = new Float64Array(posts);
  const w = new Float64Array(rows.length);
  const rng = new Rng(o.seed);
  const used = [model, ...baselines];
  const draws = metrics.map(() => baselines.map(() => [] as number[]));
  for (let b = 0; b < o.resamples && posts > 1; b++) {
    counts.fill(0);
    for (let k = 0; k < posts; k++) counts[rng.int(posts)]++;
    for (let r = 0; r < rows.length; r++) w[r] = counts[of[r]];
    metrics.forEach((metric, mi) => {
      const v = used.map((k) => metricOf(orders[k], metric, w));
      baselines.forEach((_, bi) => {
        const d = v[0] - v[bi + 1];
        if (Number.isFinite(d)) draws[mi][bi].push(d);
      });
    });
  }
  const out: { baseline: number; metric: ComparisonMetric; diff: number; ci: [number, number] }[] = [];
  metrics.forEach((metric, mi) => {
    const point = metricOf(orders[model], metric, null);
    baselines.forEach((k, bi) => {
      const d = draws[mi][bi].sort((a, b) => a - b);
      // Symmetric order statistics: with 1000 draws and level 0.95, the 25th and the 976th (25 left out on each side).
      const lo = Math.max(0, Math.ceil(((1 - o.level) / 2) * d.length) - 1);
      const hi = Math.min(d.length - 1, d.length - 1 - lo);
      const ci: [number, number] = d.length * 2 >= o.resamples && d.length > 0 ? [d[lo], d[hi]] : [NaN, NaN];
      out.push({ baseline: k, metric, diff: point - metricOf(orders[k], metric, null), ci });
    });
  });
  return out;
}

export function verdictOf(ci: [number, number], insufficient: boolean): Verdict | null {
  if (insufficient || !Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) return null;
  return ci[0] > 0 ? 'win' : ci[1] < 0 ? 'loss' : 'tie';
}
