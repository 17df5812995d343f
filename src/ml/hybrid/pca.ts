/**
 * Top-k principal directions of a centred row matrix X (m x D), for shrinking wide content features before HYBRID_MF
 * learns a D x d map on them (training cost is linear in D).
 *
 * Randomised subspace iteration (Halko, Martinsson & Tropp 2011, alg. 4.4): Q = orth(C Omega), C = X^T X / m, repeated
 * with re-orthonormalisation, then Rayleigh-Ritz: the eigenvectors of Q C Q^T (cyclic Jacobi) rotate Q into the
 * principal directions, whose eigenvalues are the variances along them. C is formed when D is small, else C q is
 * computed as X^T (X q).
 */
import { Rng } from '../../lib/random.js';
import { multiplyABt } from '../linalg.js';

export interface PrincipalDirections {
  k: number;
  dim: number;
  /** k x dim, row c = the c-th direction (unit norm), by decreasing variance. */
  vectors: Float64Array;
  /** Variance of X along each direction. */
  variances: Float64Array;
}

/** Gram-Schmidt (twice, for stability) on the l rows of q (l x D); a row that collapses is replaced by noise and redone. */
function orthonormalise(q: Float64Array, l: number, D: number, rng: Rng): void {
  for (let c = 0; c < l; c++) {
    const row = q.subarray(c * D, (c + 1) * D);
    for (let attempt = 0; ; attempt++) {
      for (let pass = 0; pass < 2; pass++) {
        for (let b = 0; b < c; b++) {
          const prev = q.subarray(b * D, (b + 1) * D);
          let dot = 0;
          for (let j = 0; j < D; j++) dot += row[j] * prev[j];
          for (let j = 0; j < D; j++) row[j] -= dot * prev[j];
        }
      }
      let norm = 0;
      for (let j = 0; j < D; j++) norm += row[j] * row[j];
      norm = Math.sqrt(norm);
      if (norm > 1e-10 || attempt >= 3) {
        const inv = norm > 0 ? 1 / norm : 0;
        for (let j = 0; j < D; j++) row[j] *= inv;
        break;
      }
      for (let j = 0; j < D; j++) row[j] = rng.gaussian();
    }
  }
}

/** Eigen-decomposition of the symmetric n x n matrix a (destroyed) by cyclic Jacobi; returns values and column eigenvectors. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += a[i * n + i] * a[i * n + i];
      for (let j = i + 1; j < n; j++) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

/** Widest D for which the D x D Gram matrix is formed (m D^2 / 2 work) instead of iterating on X (2 m D l per pass). */
const GRAM_MAX_DIM = 512;

/** The top k principal directions of the (already centred) rows of x (m x D); k <= D. */
export function principalDirections(x: Float32Array, m: number, D: number, k: number, seed: number): PrincipalDirections {
  if (!(k >= 1 && k <= D)) throw new RangeError(`principalDirections needs 1 <= k <= D, got k=${k}, D=${D}`);
  const rng = new Rng(seed);
  const l = Math.min(D, k + 8); // oversampling: the trailing directions of the subspace converge slowest
  const q = new Float64Array(l * D);
  for (let i = 0; i < q.length; i++) q[i] = rng.gaussian();
  orthonormalise(q, l, D, rng);
  const next = new Float64Array(l * D);
  // One power step: next = (X^T X / m) q, row by row of q.
  let power: () => void;
  if (D <= GRAM_MAX_DIM) {
    const c = new Float64Array(D * D);
    for (let r = 0; r < m; r++) {
      const xr = r * D;
      for (let a = 0; a < D; a++) {
        const xa = x[xr + a];
        if (xa === 0) continue;
        const ca = a * D;
        for (let b = a; b < D; b++) c[ca + b] += xa * x[xr + b];
      }
    }
    for (let a = 0; a < D; a++) {
      for (let b = a; b < D; b++) {
        c[a * D + b] /= Math.max(1, m);
        c[b * D + a] = c[a * D + b];
      }
    }
    power = () => {
      for (let r = 0; r < l; r++) {
        const qr = r * D;
        for (let a = 0; a < D; a++) {
          const ca = a * D;
          let s = 0;
          for (let b = 0; b < D; b++) s += c[ca + b] * q[qr + b];
          next[qr + a] = s;
        }
      }
    };
  } else {
    // Two blocked products instead of a pass over q per row (which streamed all of q from cache m times):
    // Y^T = q X^T (l x m), then next = Y^T X / m, with X^T formed once so both read rows contiguously.
    const xt = new Float32Array(D * m);
    for (let r = 0; r < m; r++) for (let j = 0; j < D; j++) xt[j * m + r] = x[r * D + j];
    power = () => {
      const yt = multiplyABt(q, l, x, m, D);
      const prod = multiplyABt(yt, l, xt, D, m);
      const inv = 1 / Math.max(1, m);
      for (let i = 0; i < prod.length; i++) next[i] = prod[i] * inv;
    };
  }
  const iters = D <= GRAM_MAX_DIM ? 12 : 4;
  for (let it = 0; it < iters; it++) {
    power();
    q.set(next);
    orthonormalise(q, l, D, rng);
  }
  // Rayleigh-Ritz: s = q (X^T X / m) q^T (l x l).
  power();
  const s = new Float64Array(l * l);
  for (let a = 0; a < l; a++) {
    for (let b = 0; b < l; b++) {
      let v = 0;
      for (let j = 0; j < D; j++) v += q[a * D + j] * next[b * D + j];
      s[a * l + b] = v;
    }
  }
  for (let a = 0; a < l; a++) for (let b = a + 1; b < l; b++) s[a * l + b] = s[b * l + a] = (s[a * l + b] + s[b * l + a]) / 2;
  const eig = symmetricEigen(s, l);
  const order = Array.from({ length: l }, (_, i) => i).sort((a, b) => eig.values[b] - eig.values[a]);
  const vectors = new Float64Array(k * D);
  const variances = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const e = order[c];
    variances[c] = Math.max(0, eig.values[e]);
    for (let b = 0; b < l; b++) {
      const w = eig.vectors[b * l + e];
      for (let j = 0; j < D; j++) vectors[c * D + j] += w * q[b * D + j];
    }
  }
  return { k, dim: D, vectors, variances };
}
