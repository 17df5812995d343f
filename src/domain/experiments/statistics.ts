/**
 * The statistics of the experiment report, over users (the unit of randomisation), not impressions: a user's
 * impressions are correlated, so treating them as independent would make the intervals too narrow.
 * - ratio: a rate sum(y) / sum(x) over an arm's users (y: the user's outcomes, x: their impressions) with its
 *   delta-method variance (Deng et al., "Applying the Delta Method in Metric Analytics", KDD 2018):
 *   Var(R) ~ (s_y^2 - 2 R s_xy + R^2 s_x^2) / (n mean(x)^2).
 * - relativeGain: R_t / R_c - 1 with a 95% interval from the delta method on the log of the ratio of two independent
 *   arms, Var(log R_t - log R_c) ~ Var(R_t) / R_t^2 + Var(R_c) / R_c^2, mapped back (exp(.) - 1: never below -100%);
 *   with R_t = 0 the delta method has no width (every user's count is 0), so the upper end is the exact Poisson
 *   bound for zero events, -ln(0.025) = 3.689 events over the arm's impressions, divided by R_c: a tag shown a few
 *   times without a click then reads "unknown", not "-100% [-100%, -100%]".
 * - sampleRatio: Pearson's chi-square test of users per arm against the configured shares (a sample-ratio mismatch
 *   means assignment or logging is broken and the comparison is not to be trusted).
 */

export const Z95 = 1.959963984540054;
/** Upper end of the two-sided 95% exact Poisson interval of a count of 0: -ln(0.025). */
const ZERO_EVENTS_UPPER95 = -Math.log(0.025);
/** p-value under which the sample-ratio check reports a mismatch (the usual, conservative choice). */
export const SRM_THRESHOLD = 0.001;

export interface Ratio {
  /** sum(y) / sum(x); null when sum(x) is 0. */
  value: number | null;
  /** Delta-method variance of value; null with fewer than 2 users or no value. */
  variance: number | null;
  /** Users. */
  n: number;
  sumX: number;
  sumY: number;
}

export interface Interval {
  value: number | null;
  low: number | null;
  high: number | null;
}

export function ratio(x: ArrayLike<number>, y: ArrayLike<number>): Ratio {
  const n = x.length;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    sumX += x[i];
    sumY += y[i];
  }
  if (sumX === 0) return { value: null, variance: null, n, sumX, sumY };
  const value = sumY / sumX;
  if (n < 2) return { value, variance: null, n, sumX, sumY };
  const mx = sumX / n;
  const my = sumY / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  sxx /= n - 1;
  syy /= n - 1;
  sxy /= n - 1;
  const variance = Math.max(0, (syy - 2 * value * sxy + value * value * sxx) / (n * mx * mx));
  return { value, variance, n, sumX, sumY };
}

/** The rate with its 95% interval (normal approximation, clipped at 0). */
export function rateInterval(r: Ratio): Interval {
  if (r.value === null) return { value: null, low: null, high: null };
  if (r.variance === null) return { value: r.value, low: null, high: null };
  const half = Z95 * Math.sqrt(r.variance);
  return { value: r.value, low: Math.max(0, r.value - half), high: r.value + half };
}

/** Relative gain of `test` over `control` with its 95% interval; null where the control's rate is 0 or unknown. */
export function relativeGain(test: Ratio, control: Ratio): Interval {
  if (test.value === null || control.value === null || control.value === 0) return { value: null, low: null, high: null };
  const value = test.value / control.value - 1;
  if (test.variance === null || control.variance === null) return { value, low: null, high: null };
  if (test.value === 0) {
    const sd = Math.sqrt(test.variance) / control.value;
    return { value, low: -1, high: Math.max(-1 + Z95 * sd, ZERO_EVENTS_UPPER95 / test.sumX / control.value - 1) };
  }
  const sd = Math.sqrt(test.variance / (test.value * test.value) + control.variance / (control.value * control.value));
  const log = Math.log(test.value / control.value);
  return { value, low: Math.exp(log - Z95 * sd) - 1, high: Math.exp(log + Z95 * sd) - 1 };
}

export interface SampleRatio {
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  mismatch: boolean;
  /** Per arm: the expected share of the experiment's users (shares normalised over the arms) and the observed one. */
  expected: number[];
  observed: number[];
}

export function sampleRatio(users: readonly number[], shares: readonly number[], threshold = SRM_THRESHOLD): SampleRatio {
  const total = users.reduce((a, b) => a + b, 0);
  const shareSum = shares.reduce((a, b) => a + b, 0);
  const expected = shares.map((s) => s / shareSum);
  const observed = users.map((u) => (total ? u / total : 0));
  const degreesOfFreedom = users.length - 1;
  if (total === 0) return { chiSquare: 0, degreesOfFreedom, pValue: 1, mismatch: false, expected, observed };
  let chiSquare = 0;
  for (let i = 0; i < users.length; i++) {
    const e = total * expected[i];
    chiSquare += ((users[i] - e) * (users[i] - e)) / e;
  }
  const pValue = chiSquareSurvival(chiSquare, degreesOfFreedom);
  return { chiSquare, degreesOfFreedom, pValue, mismatch: pValue < threshold, expected, observed };
}

/** P(X >= x) for X ~ chi-square(df): the regularised upper incomplete gamma Q(df/2, x/2). */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  return upperGamma(df / 2, x / 2);
}

/** Q(a, x) by its series (x < a + 1) or continued fraction (Numerical Recipes, gammq). */
function upperGamma(a: number, x: number): number {
  const lnPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.min(1, Math.max(0, 1 - sum * Math.exp(lnPrefix)));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.max(0, Math.exp(lnPrefix) * h));
}

/** ln Gamma(z), Lanczos (g = 7, n = 9), z > 0. */
function lnGamma(z: number): number {
  const g = 7;
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  z -= 1;
  let x = c[0];
  for (let i = 1; i < g + 2; i++) x += c[i] / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}
