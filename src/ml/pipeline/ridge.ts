/**
 * RIDGE baseline (issue 15, point 5): closed-form ridge regression from a post's content features to its mature (FFM)
 * embedding, the linear counterpart of MEMER's learned map. Output convention as in baselines.ts: an items x d matrix
 * with rows filled for the evaluated posts.
 *
 * Glossary (S = the training posts, n = |S|, F = design columns, d = embedding size, y_p = the mature embedding of p)
 *   x_p      design row: per modality m of `specs` (in order), its w_m feature columns z-scored with S's column
 *            mean/std over the posts of S that have m, times 1/sqrt(w_m), or all zeros when p lacks m (= the column
 *            mean, i.e. mean imputation); then one presence column 1[p has m], z-scored over S
 *   fit      min_{W,b} sum_{p in S} ||y_p - Wᵀx_p - b||² + λ ||W||²_F      (intercept b unpenalised)
 *   centred  X̃ = X - 1x̄ᵀ, Ỹ = Y - 1ȳᵀ (means over the posts being fitted); then b = ȳ - Wᵀx̄
 *   primal   W = (X̃ᵀX̃ + λI)⁻¹ X̃ᵀỸ          F x F system, used when F <= n
 *   dual     W = X̃ᵀ (X̃X̃ᵀ + λI)⁻¹ Ỹ          n x n system, used when F > n (the same W: push-through identity)
 *   λ        λ_rel · tr(X̃ᵀX̃) / min(F, n): the unit is ≈ the mean non-zero eigenvalue of X̃ᵀX̃ (at most min(F, n)
 *            of them), so λ_rel = 1 shrinks a typical direction by half whatever the widths and n; λ_rel = 10^4 leaves
 *            ≈ ȳ. Default grid λ_rel in 10^{-3, -2, ..., 4}, then the half decades either side of the best one
 *   choice   λ_rel minimising the validation MSE (mean over posts and the d components) of a fit on the other posts
 *            of a seeded split of S (20% held out by default); then W, b are refitted on all of S with that λ_rel
 *
 * Cost: one Gram matrix (n·F·min(F, n)/2 multiply-adds, shared by the validation fit and the refit) and one Cholesky
 * (min(F, n)³/6) per λ tried, 10 by default (decades then refinement: the half-decade grid would take 15 for the
 * same resolution near the optimum); see src/ml/linalg.ts.
 */
import type { Dataset } from '../../datasets/types.js';
import type { ModalitySpec } from '../memer/config.js';
import { postFeatureVectors } from './features.js';
import { cholesky, choleskySolve, gram, multiplyABt } from '../linalg.js';
import { Rng } from '../../lib/random.js';

export interface RidgeFit {
  /** (features + 1) x d, row-major: rows 0..F-1 are W, row F is the intercept b. */
  weights: Float64Array;
  /** Per design column: x = (raw - mean) · scale (block columns of a missing modality are 0 instead). */
  mean: Float64Array;
  scale: Float64Array;
  /** The chosen λ_rel (grid unit tr(X̃ᵀX̃)/min(F, n), see the header). */
  lambda: number;
  /** The absolute λ of the final fit: lambda x that unit on all training posts. */
  penalty: number;
  validationMse: number;
  /** Validation MSE per grid value, ascending λ. */
  lambdas: { lambda: number; mse: number }[];
  /** F: design columns (the feature widths plus one presence column per modality). */
  features: number;
  trainPosts: number;
  validationPosts: number;
  /** The system the final fit solved. */
  solver: 'primal' | 'dual';
  /** The design's modalities and widths, in column order; ridgeEmbeddings must be given the same. */
  specs: ModalitySpec[];
}

export interface RidgeOptions {
  /** λ_rel grid (positive), tried as given; default DEFAULT_LAMBDAS plus the half decades around the best of them. */
  lambdas?: number[];
  /** Share of the training posts held out to choose λ; default 0.2. */
  validationFraction?: number;
  /** Seed of the validation split; default 1. */
  seed?: number;
}

export type RidgeMode = 'primal' | 'dual';

/** The default coarse λ_rel grid: 10^-3 .. 10^4 by decades. */
export const DEFAULT_LAMBDAS: readonly number[] = Array.from({ length: 8 }, (_, k) => 10 ** (k - 3));

/** Column offsets of the design: block s starts at offsets[s], its presence column is at offsets[s] + specs[s].dim. */
function layoutOf(specs: readonly ModalitySpec[]): { offsets: number[]; features: number } {
  const offsets: number[] = [];
  let f = 0;
  for (const s of specs) {
    if (!(Number.isInteger(s.dim) && s.dim > 0)) throw new RangeError(`RIDGE: ${s.modality} needs a positive integer width, got ${s.dim}`);
    offsets.push(f);
    f += s.dim + 1;
  }
  return { offsets, features: f };
}

/** Raw design row of `item` into out[at..at+F): the features as stored, presence columns 1/0. */
function rawRow(ds: Dataset, item: number, specs: readonly ModalitySpec[], offsets: number[], out: Float32Array, at: number): void {
  const vecs = postFeatureVectors(ds, item, specs);
  specs.forEach((s, b) => {
    const v = vecs[s.modality];
    if (!v) return;
    out.set(v.subarray(0, s.dim), at + offsets[b]);
    out[at + offsets[b] + s.dim] = 1;
  });
}

/** Normalises a raw row in place with the fit's mean/scale; a missing modality's block becomes zeros. */
function normaliseRow(row: Float32Array, at: number, specs: readonly ModalitySpec[], offsets: number[], mean: Float64Array, scale: Float64Array): void {
  specs.forEach((s, b) => {
    const o = offsets[b];
    const q = o + s.dim;
    const present = row[at + q] === 1;
    for (let k = o; k < q; k++) row[at + k] = present ? (row[at + k] - mean[k]) * scale[k] : 0;
    row[at + q] = (row[at + q] - mean[q]) * scale[q];
  });
}

/**
 * Column statistics over the n raw rows of x: mean and std of each feature column over the rows whose modality is
 * present, of each presence column over all rows. scale = 1/(std · sqrt(w)) on a block of width w, 1/std on a
 * presence column (std 0 → 1). Why 1/sqrt(w): after the z-score a block contributes w per post to tr(XᵀX) and to
 * x_pᵀx_p, and one λ shrinks all columns alike, so without it a 2048-d visual block would outweigh a 128-d audio block
 * 16 to 1 in the fit (and in the λ unit); scaled, every modality has total variance 1, and the presence bit counts as
 * a block of its own.
 */
function columnStats(x: Float32Array, n: number, specs: readonly ModalitySpec[], offsets: number[], f: number): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(f);
  const scale = new Float64Array(f).fill(1);
  specs.forEach((s, b) => {
    const o = offsets[b];
    const q = o + s.dim;
    let present = 0;
    for (let r = 0; r < n; r++) {
      if (x[r * f + q] !== 1) continue;
      present++;
      for (let k = o; k < q; k++) mean[k] += x[r * f + k];
    }
    const sq = new Float64Array(s.dim);
    if (present > 0) {
      for (let k = o; k < q; k++) mean[k] /= present;
      for (let r = 0; r < n; r++) {
        if (x[r * f + q] !== 1) continue;
        for (let k = o; k < q; k++) sq[k - o] += (x[r * f + k] - mean[k]) ** 2;
      }
    }
    const block = 1 / Math.sqrt(s.dim);
    for (let k = o; k < q; k++) {
      const sd = present > 0 ? Math.sqrt(sq[k - o] / present) : 0;
      scale[k] = (sd > 0 ? 1 / sd : 1) * block;
    }
    const p = present / n;
    mean[q] = p;
    const sd = Math.sqrt(p * (1 - p));
    scale[q] = sd > 0 ? 1 / sd : 1;
  });
  return { mean, scale };
}

/** A ridge problem on m rows with its Gram matrix factored per λ: solve(λ) gives (F + 1) x d weights, intercept last. */
export interface RidgeSystem {
  mode: RidgeMode;
  /** tr(X̃ᵀX̃) / min(F, m): the λ_rel unit (1 when the design is constant). */
  unit: number;
  solve(penalty: number): Float64Array;
}

function factor(a: Float64Array, n: number, penalty: number): Float64Array {
  if (!(penalty > 0)) throw new RangeError(`RIDGE: the penalty must be positive, got ${penalty}`);
  for (let i = 0; i < n; i++) a[i * n + i] += penalty;
  if (!cholesky(a, n)) throw new Error(`RIDGE: the ${n} x ${n} system is not positive definite at λ = ${penalty} (non-finite features?)`);
  return a;
}

/** a (rows x cols, row-major) as cols x rows. */
function transpose(a: Float32Array | Float64Array, rows: number, cols: number): Float32Array | Float64Array {
  const t = a instanceof Float32Array ? new Float32Array(rows * cols) : new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) t[j * rows + r] = a[r * cols + j];
  return t;
}

/** Column means of the first m rows of a (· w). */
function meansOf(a: Float32Array, m: number, w: number): Float64Array {
  const s = new Float64Array(w);
  for (let r = 0; r < m; r++) for (let k = 0; k < w; k++) s[k] += a[r * w + k];
  for (let k = 0; k < w; k++) s[k] /= m;
  return s;
}

/** Rows x (rows x f) times the weights ((f + 1) x d, intercept last): rows x d. */
function predict(x: Float32Array, rows: number, w: Float64Array, f: number, d: number): Float64Array {
  const out = multiplyABt(x, rows, transpose(w.subarray(0, f * d), f, d), d, f);
  for (let r = 0; r < rows; r++) for (let c = 0; c < d; c++) out[r * d + c] += w[f * d + c];
  return out;
}

/** Mean over rows and components of (pred - y)², y read from row `from` on. */
function mse(pred: Float64Array, y: Float32Array, from: number, rows: number, d: number): number {
  let s = 0;
  for (let i = 0; i < rows * d; i++) s += (pred[i] - y[from * d + i]) ** 2;
  return s / (rows * d);
}

/**
 * Primal system on the first m rows of x (n x f) and y (n x d), given xt = xᵀ (f x n) and yt = yᵀ (d x n). The Gram
 * is passed in (the caller shares it between fits); centring goes through the sums, X̃ᵀX̃ = XᵀX - m x̄x̄ᵀ and
 * X̃ᵀỸ = XᵀY - m x̄ȳᵀ, which loses nothing here: the columns are z-scored over the training posts already.
 */
function primalSystem(g: Float64Array, x: Float32Array, xt: Float32Array | Float64Array, yt: Float32Array | Float64Array, y: Float32Array, m: number, n: number, f: number, d: number): RidgeSystem {
  const xbar = meansOf(x, m, f);
  const ybar = meansOf(y, m, d);
  const gc = new Float64Array(f * f);
  for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) gc[i * f + j] = g[i * f + j] - m * xbar[i] * xbar[j];
  const xty = multiplyABt(xt, f, yt, d, n, 0, m);
  for (let j = 0; j < f; j++) for (let c = 0; c < d; c++) xty[j * d + c] -= m * xbar[j] * ybar[c];
  let trace = 0;
  for (let i = 0; i < f; i++) trace += gc[i * f + i];
  return {
    mode: 'primal',
    unit: trace > 0 ? trace / Math.min(f, m) : 1,
    solve(penalty) {
      const l = factor(Float64Array.from(gc), f, penalty);
      const w = new Float64Array((f + 1) * d);
      w.set(choleskySolve(l, f, Float64Array.from(xty), d));
      return withIntercept(w, xbar, ybar, f, d);
    },
  };
}

/** Appends the intercept b = ȳ - Wᵀx̄ as row F of w (which has room for it). */
function withIntercept(w: Float64Array, xbar: Float64Array, ybar: Float64Array, f: number, d: number): Float64Array {
  for (let c = 0; c < d; c++) {
    let s = ybar[c];
    for (let j = 0; j < f; j++) s -= w[j * d + c] * xbar[j];
    w[f * d + c] = s;
  }
  return w;
}

/**
 * The centred kernel of the first m of n rows from their uncentred kernel k = XXᵀ (n x n): kc = X̃X̃ᵀ (m x m) and,
 * for the other rows v, cross = X̃_v X̃ᵀ ((n - m) x m), with x̄ the mean of the m rows. Expanding
 * (x_a - x̄)·(x_b - x̄) = k_ab - r_a - r_b + t, r_a = x_a·x̄ the row means of k over the m rows and t = x̄·x̄ their mean.
 */
function centredKernel(k: Float64Array, n: number, m: number): { kc: Float64Array; cross: Float64Array } {
  const rowMean = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    let s = 0;
    for (let b = 0; b < m; b++) s += k[a * n + b];
    rowMean[a] = s / m;
  }
  let t = 0;
  for (let a = 0; a < m; a++) t += rowMean[a];
  t /= m;
  const kc = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) kc[a * m + b] = k[a * n + b] - rowMean[a] - rowMean[b] + t;
  const cross = new Float64Array((n - m) * m);
  for (let v = m; v < n; v++) for (let b = 0; b < m; b++) cross[(v - m) * m + b] = k[v * n + b] - rowMean[v] - rowMean[b] + t;
  return { kc, cross };
}

/**
 * Dual problem on the first m rows of y (n x d) given their centred kernel kc (m x m): coefficients(λ) = αᵀ (d x m)
 * with α = (X̃X̃ᵀ + λI)⁻¹Ỹ, so that a row's prediction is ȳ + X̃_v X̃ᵀ α without forming W.
 */
function dualProblem(kc: Float64Array, y: Float32Array, m: number, f: number, d: number): { unit: number; ybar: Float64Array; coefficients(penalty: number): Float64Array } {
  const ybar = meansOf(y, m, d);
  const yc = new Float64Array(m * d);
  for (let r = 0; r < m; r++) for (let c = 0; c < d; c++) yc[r * d + c] = y[r * d + c] - ybar[c];
  let trace = 0;
  for (let a = 0; a < m; a++) trace += kc[a * m + a];
  return {
    unit: trace > 0 ? trace / Math.min(f, m) : 1,
    ybar,
    coefficients: (penalty) => transpose(choleskySolve(factor(Float64Array.from(kc), m, penalty), m, Float64Array.from(yc), d), m, d) as Float64Array,
  };
}

/** Dual system on the first m rows of x (· f) and y: W = X̃ᵀα = Xᵀα - x̄(1ᵀα), from the centred kernel kc (m x m). */
function dualSystem(kc: Float64Array, x: Float32Array, y: Float32Array, m: number, f: number, d: number): RidgeSystem {
  const problem = dualProblem(kc, y, m, f, d);
  const xbar = meansOf(x, m, f);
  return {
    mode: 'dual',
    unit: problem.unit,
    solve(penalty) {
      const alphaT = problem.coefficients(penalty);
      const xta = multiplyABt(transpose(x.subarray(0, m * f), m, f), f, alphaT, d, m);
      const w = new Float64Array((f + 1) * d);
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let r = 0; r < m; r++) s += alphaT[c * m + r];
        for (let j = 0; j < f; j++) w[j * d + c] = xta[j * d + c] - xbar[j] * s;
      }
      return withIntercept(w, xbar, problem.ybar, f, d);
    },
  };
}

/** The ridge system of the first m rows of x (m x f) and y (m x d); mode defaults to primal when f <= m. */
export function ridgeSystem(x: Float32Array, y: Float32Array, m: number, f: number, d: number, mode: RidgeMode = f <= m ? 'primal' : 'dual'): RidgeSystem {
  if (m < 1) throw new RangeError('RIDGE: no rows to fit');
  if (mode === 'primal') {
    const xt = transpose(x.subarray(0, m * f), m, f);
    return primalSystem(gram(xt, f, m), x, xt, transpose(y.subarray(0, m * d), m, d), y, m, m, f, d);
  }
  return dualSystem(centredKernel(gram(x, m, f), m, m).kc, x, y, m, f, d);
}

/** One-shot ridge solve (the test hook for primal = dual): (f + 1) x d weights, intercept last. */
export function ridgeSolve(x: Float32Array, y: Float32Array, m: number, f: number, d: number, penalty: number, mode?: RidgeMode): Float64Array {
  return ridgeSystem(x, y, m, f, d, mode).solve(penalty);
}

/**
 * Fit on the posts with from[i] === 1: design rows from their content features (`specs`), targets their rows of `posts`
 * (items x d). λ_rel is chosen on a seeded validation split of those posts, then the fit is redone on all of them.
 */
export function fitRidge(ds: Dataset, posts: Float32Array, d: number, from: Uint8Array, specs: readonly ModalitySpec[], options: RidgeOptions = {}): RidgeFit {
  const grid = [...(options.lambdas ?? DEFAULT_LAMBDAS)].sort((a, b) => a - b);
  if (grid.length === 0 || !grid.every((l) => Number.isFinite(l) && l > 0)) throw new RangeError(`RIDGE: the λ grid must be positive numbers, got [${grid.join(', ')}]`);
  const fraction = options.validationFraction ?? 0.2;
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`RIDGE: validationFraction must be in (0, 1), got ${fraction}`);
  if (specs.length === 0) throw new RangeError('RIDGE: no modalities to regress from');
  for (const s of specs) if (!ds.features[s.modality]) throw new RangeError(`RIDGE: the dataset has no ${s.modality} features`);
  const items = ds.items.ids.length;
  if (posts.length < items * d) throw new RangeError(`RIDGE: posts holds ${posts.length} values, ${items} items x ${d} need ${items * d}`);

  const train: number[] = [];
  for (let i = 0; i < Math.min(from.length, items); i++) if (from[i]) train.push(i);
  const n = train.length;
  if (n < 2) throw new RangeError(`RIDGE: needs at least 2 training posts to choose λ, got ${n}`);
  // Rows in split order: the fitting part first, the validation part last, so both fits use prefixes of x and y.
  const order = new Rng(options.seed ?? 1).shuffle(Int32Array.from(train));
  const nVal = Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
  const nFit = n - nVal;

  const { offsets, features: f } = layoutOf(specs);
  // float32 design: half the memory of float64 (a 10k x 2.5k design is 100 MB) and of the traffic of the Gram
  // kernels, which are memory-bound; every product is summed in float64.
  const x = new Float32Array(n * f);
  const y = new Float32Array(n * d);
  order.forEach((item, r) => {
    rawRow(ds, item, specs, offsets, x, r * f);
    y.set(posts.subarray(item * d, (item + 1) * d), r * d);
  });
  // Statistics over all training posts (features only, no targets), so the validation fit and the refit share one
  // design; the systems centre on their own rows anyway.
  const { mean, scale } = columnStats(x, n, specs, offsets, f);
  for (let r = 0; r < n; r++) normaliseRow(x, r * f, specs, offsets, mean, scale);

  // Gram work is shared between the λ choice and the refit: primal G_all = G_fit + G_val (column ranges of Xᵀ); dual
  // one kernel K_all, whose blocks give the fitting part's kernel, the validation rows' cross kernel X̃_val X̃_fitᵀ
  // (their predictions without forming W) and, centred over all rows, the refit's.
  const fitMode: RidgeMode = f <= nFit ? 'primal' : 'dual';
  const allMode: RidgeMode = f <= n ? 'primal' : 'dual';
  const xt = allMode === 'primal' ? transpose(x, n, f) : null;
  const yt = allMode === 'primal' ? transpose(y, n, d) : null;
  let error: (lambda: number) => number;
  let refit: () => RidgeSystem;
  if (fitMode === 'primal') {
    const gFit = gram(xt!, f, n, 0, nFit);
    const gAll = gram(xt!, f, n, nFit, n); // G_val, then G_val + G_fit
    for (let i = 0; i < gAll.length; i++) gAll[i] += gFit[i];
    const system = primalSystem(gFit, x, xt!, yt!, y, nFit, n, f, d);
    error = (lambda) => mse(predict(x.subarray(nFit * f), nVal, system.solve(lambda * system.unit), f, d), y, nFit, nVal, d);
    refit = () => primalSystem(gAll, x, xt!, yt!, y, n, n, f, d);
  } else {
    const kAll = gram(x, n, f);
    const { kc, cross } = centredKernel(kAll, n, nFit);
    const problem = dualProblem(kc, y, nFit, f, d);
    error = (lambda) => {
      const pred = multiplyABt(cross, nVal, problem.coefficients(lambda * problem.unit), d, nFit);
      for (let v = 0; v < nVal; v++) for (let c = 0; c < d; c++) pred[v * d + c] += problem.ybar[c];
      return mse(pred, y, nFit, nVal, d);
    };
    refit = () => (allMode === 'dual' ? dualSystem(centredKernel(kAll, n, n).kc, x, y, n, f, d) : primalSystem(gram(xt!, f, n), x, xt!, yt!, y, n, n, f, d));
  }

  const lambdas = grid.map((lambda) => ({ lambda, mse: error(lambda) }));
  if (!options.lambdas) {
    // Refine the default decades by the half decades around the best one (inside the grid's range).
    const coarse = lambdas.reduce((b, l) => (l.mse <= b.mse ? l : b));
    for (const lambda of [10 ** (Math.log10(coarse.lambda) - 0.5), 10 ** (Math.log10(coarse.lambda) + 0.5)]) {
      if (lambda > grid[0] && lambda < grid[grid.length - 1]) lambdas.push({ lambda, mse: error(lambda) });
    }
    lambdas.sort((a, b) => a.lambda - b.lambda);
  }
  // Ties (a constant design: every λ predicts ȳ) go to the larger λ, the simpler model.
  let best = 0;
  for (let k = 1; k < lambdas.length; k++) if (lambdas[k].mse <= lambdas[best].mse) best = k;
  const system = refit();
  const penalty = lambdas[best].lambda * system.unit;
  return {
    weights: system.solve(penalty),
    mean,
    scale,
    lambda: lambdas[best].lambda,
    penalty,
    validationMse: lambdas[best].mse,
    lambdas,
    features: f,
    trainPosts: n,
    validationPosts: nVal,
    solver: system.mode,
    specs: specs.map((s) => ({ modality: s.modality, dim: s.dim })),
  };
}

/** items x d matrix with the RIDGE prediction Wᵀx_p + b in the rows of `targets` (others zero). */
export function ridgeEmbeddings(ds: Dataset, fit: RidgeFit, specs: readonly ModalitySpec[], d: number, targets: Int32Array): Float32Array {
  const same = specs.length === fit.specs.length && specs.every((s, k) => s.modality === fit.specs[k].modality && s.dim === fit.specs[k].dim);
  if (!same) throw new RangeError(`RIDGE: fitted on ${fit.specs.map((s) => `${s.modality}:${s.dim}`).join('+')}, asked for ${specs.map((s) => `${s.modality}:${s.dim}`).join('+')}`);
  const f = fit.features;
  if (fit.weights.length !== (f + 1) * d) throw new RangeError(`RIDGE: the fit has ${fit.weights.length / (f + 1)} outputs, asked for d = ${d}`);
  const { offsets } = layoutOf(specs);
  const out = new Float32Array(ds.items.ids.length * d);
  // In chunks: one design block per chunk keeps the product a tiled matrix multiply with bounded memory.
  const chunk = 1024;
  const x = new Float32Array(Math.min(chunk, targets.length) * f);
  for (let start = 0; start < targets.length; start += chunk) {
    const ids = targets.subarray(start, Math.min(targets.length, start + chunk));
    x.fill(0);
    ids.forEach((p, r) => {
      rawRow(ds, p, specs, offsets, x, r * f);
      normaliseRow(x, r * f, specs, offsets, fit.mean, fit.scale);
    });
    const pred = predict(x, ids.length, fit.weights, f, d);
    ids.forEach((p, r) => {
      for (let c = 0; c < d; c++) out[p * d + c] = pred[r * d + c];
    });
  }
  return out;
}

/** A fit as an affine map of the raw features (what a graph can compute from its inputs): see ridgeAffine. */
export interface RidgeAffine {
  /** Per spec (in order), its raw width x d, row-major: A_m. */
  weights: Float32Array[];
  /** specs x d: B, row m is added when the post has modality m. */
  presence: Float32Array;
  /** d: c. */
  bias: Float32Array;
}

/**
 * The fit rewritten on raw inputs: prediction = c + sum_m (raw_m A_m + present_m B_m), with raw_m = 0 for a missing
 * modality (the dataset convention), which is exactly Wᵀx_p + b of the normalised design (x = (raw - mean) · scale
 * for a present block, 0 for a missing one; presence columns (1[m] - mean) · scale).
 */
export function ridgeAffine(fit: RidgeFit, d: number): RidgeAffine {
  const { offsets } = layoutOf(fit.specs);
  const w = fit.weights;
  const bias = Float64Array.from({ length: d }, (_, c) => w[fit.features * d + c]);
  const presence = new Float64Array(fit.specs.length * d);
  const weights = fit.specs.map((s, b) => {
    const o = offsets[b];
    const q = o + s.dim;
    const a = new Float32Array(s.dim * d);
    for (let k = o; k < q; k++) {
      for (let c = 0; c < d; c++) {
        a[(k - o) * d + c] = fit.scale[k] * w[k * d + c];
        presence[b * d + c] -= fit.mean[k] * fit.scale[k] * w[k * d + c];
      }
    }
    for (let c = 0; c < d; c++) {
      presence[b * d + c] += fit.scale[q] * w[q * d + c];
      bias[c] -= fit.mean[q] * fit.scale[q] * w[q * d + c];
    }
    return a;
  });
  return { weights, presence: Float32Array.from(presence), bias: Float32Array.from(bias) };
}
