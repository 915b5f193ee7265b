/** A float64 forward pass: logits, the head's input features, and the residual stream after each block ([n, tokens, width]). */
export interface Forward64 {
  readonly logits: Float64Array;
  readonly preLogits: Float64Array;
  readonly blocks: readonly Float64Array[];
}

/*
 * The loss terms and representation metrics in float64, written out as loops from their
 * definitions (the papers' equations), independent of the tfjs ops: the laws compare the compiled terms
 * with these, and the Sim metric is computed with `linearCka64` on host copies.
 */

/** x Xᵀ of rows × d row-major: rows × rows. */
const gram64 = (x: ArrayLike<number>, rows: number, d: number): Float64Array => {
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i * d + k]! * x[j * d + k]!;
      g[i * rows + j] = s;
    }
  }
  return g;
};

/** S(i, j) = cos(x_i, x_j). */
export const cosineGram64 = (x: ArrayLike<number>, rows: number, d: number): Float64Array => {
  const g = gram64(x, rows, d);
  const norm = Array.from({ length: rows }, (_, i) => Math.sqrt(g[i * rows + i]!));
  return g.map((v, k) => v / (norm[Math.floor(k / rows)]! * norm[k % rows]!));
};

const columnMeans64 = (x: ArrayLike<number>, rows: number, d: number): Float64Array => {
  const mean = new Float64Array(d);
  for (let i = 0; i < rows; i++) for (let k = 0; k < d; k++) mean[k]! += x[i * d + k]! / rows;
  return mean;
};

const centred64 = (x: ArrayLike<number>, rows: number, d: number): Float64Array => {
  const mean = columnMeans64(x, rows, d);
  return Float64Array.from({ length: rows * d }, (_, idx) => x[idx]! - mean[idx % d]!);
};

export const frobenius2 = (a: ArrayLike<number>, b?: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - (b ? b[i]! : 0)) ** 2;
  return s;
};

/** Linear CKA of x: rows × dx and y: rows × dy, as ‖YcᵀXc‖²_F / (‖XcᵀXc‖_F ‖YcᵀYc‖_F) through the feature-space products. */
export const linearCka64 = (x: ArrayLike<number>, y: ArrayLike<number>, rows: number, dx: number, dy: number): number => {
  const xc = centred64(x, rows, dx);
  const yc = centred64(y, rows, dy);
  const cross = (a: Float64Array, da: number, b: Float64Array, db: number) => {
    const out = new Float64Array(da * db);
    for (let r = 0; r < rows; r++) for (let i = 0; i < da; i++) for (let j = 0; j < db; j++) out[i * db + j]! += a[r * da + i]! * b[r * db + j]!;
    return out;
  };
  return frobenius2(cross(yc, dy, xc, dx)) / Math.sqrt(frobenius2(cross(xc, dx, xc, dx)) * frobenius2(cross(yc, dy, yc, dy)));
};

/** The mean [d] and unbiased covariance [d, d] of rows × d features. */
export const moments64 = (x: ArrayLike<number>, rows: number, d: number): { mean: Float64Array; covariance: Float64Array } => {
  const mean = columnMeans64(x, rows, d);
  const xc = centred64(x, rows, d);
  const covariance = new Float64Array(d * d);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) covariance[i * d + j]! += (xc[r * d + i]! * xc[r * d + j]!) / (rows - 1);
  return { mean, covariance };
};

/** RIFT (and RIFT* with `withMean`, scale-normalised with `normalised`) for given moments and Q, straight from the definition. */
export const rift64 = (
  tuned: { mean: ArrayLike<number>; covariance: ArrayLike<number> },
  pretrained: { mean: ArrayLike<number>; covariance: ArrayLike<number> },
  q: ArrayLike<number>,
  d: number,
  withMean: boolean,
  normalised: boolean,
): number => {
  let trZ = 0;
  let trP = 0;
  for (let i = 0; i < d; i++) {
    trZ += tuned.covariance[i * d + i]!;
    trP += pretrained.covariance[i * d + i]!;
  }
  const s2 = trZ / trP;
  const rotated = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) s += q[a * d + i]! * pretrained.covariance[a * d + b]! * q[b * d + j]!;
      rotated[i * d + j] = s2 * s;
    }
  }
  let loss = frobenius2(tuned.covariance, rotated) / (normalised ? trZ * trZ : 1);
  if (withMean) {
    let m = 0;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += q[a * d + j]! * pretrained.mean[a]!;
      m += (tuned.mean[j]! - Math.sqrt(s2) * s) ** 2;
    }
    loss += m / (normalised ? trZ : 1);
  }
  return loss;
};

/**
 * exp(M − Mᵀ) for M: d × d as the plain power series Σ Aᵏ/k! (terms until they vanish), after
 * halving A until ‖A‖_F ≤ 1/2 and squaring back: the float64 oracle of `orthogonalExp`.
 */
export const expSkew64 = (m: ArrayLike<number>, d: number): Float64Array => {
  let a = Float64Array.from({ length: d * d }, (_, k) => m[k]! - m[(k % d) * d + Math.floor(k / d)]!);
  let squarings = 0;
  while (Math.sqrt(frobenius2(a)) > 0.5) {
    a = a.map((x) => x / 2);
    squarings++;
  }
  const matmul = (x: Float64Array, y: Float64Array) => {
    const z = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) for (let j = 0; j < d; j++) z[i * d + j]! += x[i * d + k]! * y[k * d + j]!;
    return z;
  };
  let term = Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 1 : 0));
  let sum = term.slice();
  for (let k = 1; k < 30; k++) {
    term = matmul(term, a).map((x) => x / k);
    sum = sum.map((x, idx) => x + term[idx]!);
  }
  for (let i = 0; i < squarings; i++) sum = matmul(sum, sum);
  return sum;
};
