/** Float64 oracles the kernel tests share. */

/** c[t] = op(a[t]) op(b[t]) by loops, op transposing when asked; a batch of 1 is broadcast. */
export const matmul64 = (
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  batchA: number,
  batchB: number,
  m: number,
  k: number,
  n: number,
  ta = false,
  tb = false,
): Float64Array => {
  const batch = Math.max(batchA, batchB);
  const c = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const [oa, ob] = [batchA === 1 ? 0 : t * m * k, batchB === 1 ? 0 : t * k * n];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[oa + (ta ? p * m + i : i * k + p)]! * b[ob + (tb ? j * k + p : p * n + j)]!;
        c[t * m * n + i * n + j] = s;
      }
  }
  return c;
};

/** Σ w · LayerNorm(x; γ, β) over [rows, d], straight from the definition (timm's biased variance). */
export const weightedLayerNorm64 = (
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  w: Float64Array,
  rows: number,
  d: number,
  eps: number,
): number => {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const row = x.subarray(i * d, (i + 1) * d);
    const mean = row.reduce((a, b) => a + b, 0) / d;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    for (let j = 0; j < d; j++) total += w[i * d + j]! * (((row[j]! - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!);
  }
  return total;
};

/** Central differences of `f` at `at`, one coordinate at a time. */
export const numericGradient = (f: (v: Float64Array) => number, at: Float64Array, h = 1e-5): number[] =>
  Array.from(at, (_, k) => {
    const [up, down] = [Float64Array.from(at), Float64Array.from(at)];
    up[k]! += h;
    down[k]! -= h;
    return (f(up) - f(down)) / (2 * h);
  });

/** Attention from its definition in float64: per image and head P = softmax(q kᵀ/√d), O = P v, from qkv [n·t, 3w] in timm's layout. */
export const attention64 = (qkv: ArrayLike<number>, n: number, t: number, heads: number) => {
  const w = qkv.length / (n * t) / 3;
  const d = w / heads;
  const [out, probs] = [new Float64Array(n * t * w), new Float64Array(n * heads * t * t)];
  const at = (image: number, token: number, part: number, head: number, c: number) => qkv[(image * t + token) * 3 * w + part * w + head * d + c]!;
  for (let image = 0; image < n; image++)
    for (let head = 0; head < heads; head++)
      for (let i = 0; i < t; i++) {
        const scores = Array.from(
          { length: t },
          (_, j) => Array.from({ length: d }, (_, c) => at(image, i, 0, head, c) * at(image, j, 1, head, c)).reduce((a, b) => a + b) / Math.sqrt(d),
        );
        const most = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - most));
        const sum = e.reduce((a, b) => a + b);
        e.forEach((x, j) => (probs[((image * heads + head) * t + i) * t + j] = x / sum));
        for (let c = 0; c < d; c++) out[(image * t + i) * w + head * d + c] = e.reduce((acc, x, j) => acc + (x / sum) * at(image, j, 2, head, c), 0);
      }
  return { out, probs };
};
