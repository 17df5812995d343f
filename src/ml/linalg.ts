/**
 * Small dense linear algebra in float64 for closed-form fits (RIDGE): a Gram matrix, a Cholesky factorisation and the
 * triangular solves that use it. Row-major throughout; matrices are flat typed arrays with their sizes passed along.
 *
 *   gram(M, k0, k1)  G = M[:, k0:k1] M[:, k0:k1]ᵀ for an r x c matrix M (G is r x r, symmetric, both triangles filled)
 *   multiplyABt      C = A[:, k0:k1] B[:, k0:k1]ᵀ for A p x k and B q x k (C is p x q), as contiguous dot products
 *   cholesky(A)      A = L Lᵀ, L lower triangular, written over the lower triangle of A (the upper one is left as is)
 *   choleskySolve    X = A⁻¹ B for k right-hand sides (B is n x k, overwritten by X): L z = b, then Lᵀ x = z
 *
 * Plain JS has no SIMD, so the loops are register-tiled instead: each value loaded from memory feeds several
 * multiply-adds (4 rows x 2 rows per tile in both kernels), which is what bounds their speed on V8. Products are
 * written as dot products of rows for the same reason: an axpy form (C[i,:] += a·B[k,:]) streams C through memory once
 * per term and measured ~6 ns per multiply-add against ~0.8 for the tiled dots.
 */

/**
 * G = M[:, k0:k1] M[:, k0:k1]ᵀ (the column range lets a caller take the Gram of a subset of observations stored as
 * columns without copying). float32 input is read as is: it halves the memory traffic, and products are formed and
 * summed in float64 anyway.
 */
export function gram(m: Float32Array | Float64Array, rows: number, cols: number, k0 = 0, k1 = cols): Float64Array {
  if (m.length < rows * cols) throw new RangeError(`gram: a ${rows} x ${cols} matrix needs ${rows * cols} values, got ${m.length}`);
  if (!(0 <= k0 && k0 <= k1 && k1 <= cols)) throw new RangeError(`gram: column range [${k0}, ${k1}) outside 0..${cols}`);
  const g = new Float64Array(rows * rows);
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const o0 = i * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    let j = i;
    for (; j + 2 <= rows; j += 2) {
      const p0 = j * cols;
      const p1 = p0 + cols;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let k = k0; k < k1; k++) {
        const y0 = m[p0 + k];
        const y1 = m[p1 + k];
        const x0 = m[o0 + k];
        const x1 = m[o1 + k];
        const x2 = m[o2 + k];
        const x3 = m[o3 + k];
        a0 += x0 * y0;
        a1 += x1 * y0;
        a2 += x2 * y0;
        a3 += x3 * y0;
        b0 += x0 * y1;
        b1 += x1 * y1;
        b2 += x2 * y1;
        b3 += x3 * y1;
      }
      // Entries below the diagonal inside the first tiles are written too; the mirror at the end overwrites them with
      // the same values from the upper triangle.
      const g0 = i * rows + j;
      g[g0] = a0;
      g[g0 + rows] = a1;
      g[g0 + 2 * rows] = a2;
      g[g0 + 3 * rows] = a3;
      g[g0 + 1] = b0;
      g[g0 + rows + 1] = b1;
      g[g0 + 2 * rows + 1] = b2;
      g[g0 + 3 * rows + 1] = b3;
    }
    for (; j < rows; j++) {
      const p0 = j * cols;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let k = k0; k < k1; k++) {
        const y0 = m[p0 + k];
        a0 += m[o0 + k] * y0;
        a1 += m[o1 + k] * y0;
        a2 += m[o2 + k] * y0;
        a3 += m[o3 + k] * y0;
      }
      const g0 = i * rows + j;
      g[g0] = a0;
      g[g0 + rows] = a1;
      g[g0 + 2 * rows] = a2;
      g[g0 + 3 * rows] = a3;
    }
  }
  for (; i < rows; i++) {
    const oi = i * cols;
    for (let j = i; j < rows; j++) {
      const oj = j * cols;
      let s = 0;
      for (let k = k0; k < k1; k++) s += m[oi + k] * m[oj + k];
      g[i * rows + j] = s;
    }
  }
  for (let a = 0; a < rows; a++) for (let b = a + 1; b < rows; b++) g[b * rows + a] = g[a * rows + b];
  return g;
}

/** C = A[:, k0:k1] B[:, k0:k1]ᵀ (p x q) for row-major A (p x k) and B (q x k); 4 x 2 register tiles as in `gram`. */
export function multiplyABt(a: Float32Array | Float64Array, p: number, b: Float32Array | Float64Array, q: number, k: number, k0 = 0, k1 = k): Float64Array {
  if (a.length < p * k || b.length < q * k) throw new RangeError(`multiplyABt: needs A ${p} x ${k} and B ${q} x ${k}, got ${a.length} and ${b.length} values`);
  if (!(0 <= k0 && k0 <= k1 && k1 <= k)) throw new RangeError(`multiplyABt: column range [${k0}, ${k1}) outside 0..${k}`);
  const c = new Float64Array(p * q);
  for (let i = 0; i < p; i += 4) {
    // Rows past p repeat row i (their results are dropped), so one loop shape serves every p.
    const o0 = i * k;
    const o1 = (i + 1 < p ? i + 1 : i) * k;
    const o2 = (i + 2 < p ? i + 2 : i) * k;
    const o3 = (i + 3 < p ? i + 3 : i) * k;
    for (let j = 0; j < q; j += 2) {
      const p0 = j * k;
      const p1 = (j + 1 < q ? j + 1 : j) * k;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      for (let t = k0; t < k1; t++) {
        const y0 = b[p0 + t];
        const y1 = b[p1 + t];
        const x0 = a[o0 + t];
        const x1 = a[o1 + t];
        const x2 = a[o2 + t];
        const x3 = a[o3 + t];
        a0 += x0 * y0;
        a1 += x1 * y0;
        a2 += x2 * y0;
        a3 += x3 * y0;
        b0 += x0 * y1;
        b1 += x1 * y1;
        b2 += x2 * y1;
        b3 += x3 * y1;
      }
      const two = j + 1 < q;
      c[i * q + j] = a0;
      if (two) c[i * q + j + 1] = b0;
      if (i + 1 < p) {
        c[(i + 1) * q + j] = a1;
        if (two) c[(i + 1) * q + j + 1] = b1;
      }
      if (i + 2 < p) {
        c[(i + 2) * q + j] = a2;
        if (two) c[(i + 2) * q + j + 1] = b2;
      }
      if (i + 3 < p) {
        c[(i + 3) * q + j] = a3;
        if (two) c[(i + 3) * q + j + 1] = b3;
      }
    }
  }
  return c;
}

/** One row of Cholesky-Crout: L[i][j] for j0 <= j <= i (the earlier columns of row i must be done). */
function crout(a: Float64Array, n: number, i: number, j0: number): boolean {
  const oi = i * n;
  for (let j = j0; j <= i; j++) {
    const oj = j * n;
    let s = a[oi + j];
    for (let k = 0; k < j; k++) s -= a[oi + k] * a[oj + k];
    if (j < i) a[oi + j] = s / a[oj + j];
    else {
      if (!(s > 0)) return false;
      a[oi + i] = Math.sqrt(s);
    }
  }
  return true;
}

/**
 * In-place Cholesky, Cholesky-Crout by rows: L[i][j] = (A[i][j] - L[i][:j]·L[j][:j]) / L[j][j], both prefixes
 * contiguous. Four rows go together: for a column j left of their diagonal block they depend only on finished rows, so
 * each L[j][:j] loaded serves four dot products (and two columns j, j+1 at a time, the second fixed up by the k = j
 * term). Reads and writes only the lower triangle. Returns false when A is not (numerically) positive definite.
 */
export function cholesky(a: Float64Array, n: number): boolean {
  if (a.length < n * n) throw new RangeError(`cholesky: an ${n} x ${n} matrix needs ${n * n} values, got ${a.length}`);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o0 = i * n;
    const o1 = o0 + n;
    const o2 = o1 + n;
    const o3 = o2 + n;
    let j = 0;
    for (; j + 2 <= i; j += 2) {
      const p0 = j * n;
      const p1 = p0 + n;
      let s0 = a[o0 + j], s1 = a[o1 + j], s2 = a[o2 + j], s3 = a[o3 + j];
      let u0 = a[o0 + j + 1], u1 = a[o1 + j + 1], u2 = a[o2 + j + 1], u3 = a[o3 + j + 1];
      for (let k = 0; k < j; k++) {
        const l0 = a[p0 + k];
        const l1 = a[p1 + k];
        const x0 = a[o0 + k];
        const x1 = a[o1 + k];
        const x2 = a[o2 + k];
        const x3 = a[o3 + k];
        s0 -= x0 * l0;
        s1 -= x1 * l0;
        s2 -= x2 * l0;
        s3 -= x3 * l0;
        u0 -= x0 * l1;
        u1 -= x1 * l1;
        u2 -= x2 * l1;
        u3 -= x3 * l1;
      }
      const d0 = 1 / a[p0 + j];
      const c0 = (a[o0 + j] = s0 * d0);
      const c1 = (a[o1 + j] = s1 * d0);
      const c2 = (a[o2 + j] = s2 * d0);
      const c3 = (a[o3 + j] = s3 * d0);
      const lj = a[p1 + j];
      const d1 = 1 / a[p1 + j + 1];
      a[o0 + j + 1] = (u0 - c0 * lj) * d1;
      a[o1 + j + 1] = (u1 - c1 * lj) * d1;
      a[o2 + j + 1] = (u2 - c2 * lj) * d1;
      a[o3 + j + 1] = (u3 - c3 * lj) * d1;
    }
    // The rest (an odd column left of the block, then the 4 x 4 diagonal block) row by row: O(n) work per row.
    for (let t = 0; t < 4; t++) if (!crout(a, n, i + t, j)) return false;
  }
  for (; i < n; i++) if (!crout(a, n, i, 0)) return false;
  return true;
}

/**
 * B := A⁻¹ B given the factor L of `cholesky` (lower triangle of `l`); B is n x k row-major. The right-hand sides are
 * solved as columns of a transposed copy, four at a time, so that each L[i][p] loaded serves four of them and every
 * inner loop is contiguous (forward: dot products with row i of L; backward: row i of L times x_i off the rest).
 */
export function choleskySolve(l: Float64Array, n: number, b: Float64Array, k: number): Float64Array {
  if (b.length < n * k) throw new RangeError(`choleskySolve: B needs ${n} x ${k} values, got ${b.length}`);
  // Padded to a multiple of four columns (zeros, dropped at the end) so a single 4-wide loop covers every k.
  const kp = (k + 3) & ~3;
  const t = new Float64Array(kp * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) t[c * n + i] = b[i * k + c];
  for (let c0 = 0; c0 < kp; c0 += 4) {
    const q0 = c0 * n;
    const q1 = q0 + n;
    const q2 = q1 + n;
    const q3 = q2 + n;
    for (let i = 0; i < n; i++) {
      const oi = i * n;
      let s0 = t[q0 + i], s1 = t[q1 + i], s2 = t[q2 + i], s3 = t[q3 + i];
      for (let p = 0; p < i; p++) {
        const lp = l[oi + p];
        s0 -= lp * t[q0 + p];
        s1 -= lp * t[q1 + p];
        s2 -= lp * t[q2 + p];
        s3 -= lp * t[q3 + p];
      }
      const inv = 1 / l[oi + i];
      t[q0 + i] = s0 * inv;
      t[q1 + i] = s1 * inv;
      t[q2 + i] = s2 * inv;
      t[q3 + i] = s3 * inv;
    }
    for (let i = n - 1; i >= 0; i--) {
      const oi = i * n;
      const inv = 1 / l[oi + i];
      const x0 = (t[q0 + i] *= inv);
      const x1 = (t[q1 + i] *= inv);
      const x2 = (t[q2 + i] *= inv);
      const x3 = (t[q3 + i] *= inv);
      for (let p = 0; p < i; p++) {
        const lp = l[oi + p];
        t[q0 + p] -= lp * x0;
        t[q1 + p] -= lp * x1;
        t[q2 + p] -= lp * x2;
        t[q3 + p] -= lp * x3;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) b[i * k + c] = t[c * n + i];
  return b;
}
