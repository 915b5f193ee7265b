import * as tf from "@tensorflow/tfjs-core";
import { expect, it } from "vitest";
import { layerNorm } from "../../src/ops/layerNorm.js";
import { gelu } from "../../src/ops/gelu.js";
import { attention } from "../../src/ops/attention.js";
import { crossEntropy } from "../../src/ops/crossEntropy.js";
import { erf64 } from "../../src/interpreters/reference/erf64.js";
import { rng } from "../../src/util/random.js";
import { expectClose } from "./close.js";
import { attention64 } from "./reference64.js";

/*
 * The kernels where the inputs are small or large against what float32 and ε resolve, against
 * their float64 definitions, on the current backend: LayerNorm on rows of zero or tiny variance,
 * softmax (attention, cross-entropy) on huge and equal logits, GELU far out in its tails.
 * Asynchronous reads (WebGPU needs them).
 */

const f32 = (xs: ArrayLike<number>) => Float64Array.from(Float32Array.from(xs));

/** Central differences of `f` at `at`, a step of its own size for each coordinate. */
const centralDifferences = (f: (v: Float64Array) => number, at: Float64Array, step: (k: number) => number): number[] =>
  Array.from(at, (_, k) => {
    const [up, down] = [Float64Array.from(at), Float64Array.from(at)];
    const h = step(k);
    up[k]! += h;
    down[k]! -= h;
    return (f(up) - f(down)) / (2 * h);
  });

/** LayerNorm of [rows, d] in float64 from the definition (biased variance, ε inside the root). */
export const layerNorm64 = (x: Float64Array, gamma: Float64Array, beta: Float64Array, d: number, eps: number): Float64Array => {
  const y = new Float64Array(x.length);
  for (let at = 0; at < x.length; at += d) {
    const row = x.subarray(at, at + d);
    const mean = row.reduce((a, b) => a + b, 0) / d;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    for (let j = 0; j < d; j++) y[at + j] = ((row[j]! - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!;
  }
  return y;
};

/**
 * Rows of 37 where ε matters: constant, zero, standard deviations 0.1, 1 and 3 × √ε about an
 * offset, a single spike, a tiny spread about 10 (one-pass variance cancels there), and an
 * ordinary row. Value and dx, dγ, dβ of Σ w·LayerNorm against float64.
 */
export const expectLayerNormOnFlatRows = async (eps: number): Promise<void> => {
  const d = 37;
  const r = rng(5, "flat rows");
  const s = Math.sqrt(eps);
  const rows: ((j: number) => number)[] = [
    () => 0.3,
    () => 0,
    () => 1.5 + 0.1 * s * r.normal(),
    () => -2 + s * r.normal(),
    () => 3 * s * r.normal(),
    (j) => (j === 17 ? 1e-3 : 0),
    () => 10 + 1e-2 * r.normal(),
    () => 1 + 2 * r.normal(),
  ];
  const x64 = f32(rows.flatMap((row) => Array.from({ length: d }, (_, j) => row(j))));
  const gamma64 = f32(Array.from({ length: d }, () => 1 + 0.5 * r.normal()));
  const beta64 = f32(Array.from({ length: d }, () => r.normal()));
  const w64 = f32(Array.from({ length: rows.length * d }, () => r.normal()));
  const [x, gamma, beta, w] = [
    tf.tensor2d(Float32Array.from(x64), [rows.length, d]),
    tf.tensor1d(Float32Array.from(gamma64)),
    tf.tensor1d(Float32Array.from(beta64)),
    tf.tensor2d(Float32Array.from(w64), [rows.length, d]),
  ];
  // √(σ² + ε) of each row, the scale x̂ divides by, and what float32 resolves there: the row's
  // rounding (64 units in the last place of its largest entry) in units of that scale.
  const rowScale = rows.map((_, i) => {
    const row = x64.subarray(i * d, (i + 1) * d);
    const mean = row.reduce((a, b) => a + b, 0) / d;
    return Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / d + eps);
  });
  const resolution = rows.map((_, i) => (2 ** -18 * Math.max(...x64.subarray(i * d, (i + 1) * d).map(Math.abs))) / rowScale[i]!);
  const gammaMax = Math.max(...gamma64.map(Math.abs));
  const y = layerNorm(x, gamma, beta, eps);
  const [gotY, wantY] = [await y.data(), layerNorm64(x64, gamma64, beta64, d, eps)];
  for (let i = 0; i < rows.length; i++)
    expectClose(
      gotY.subarray(i * d, (i + 1) * d),
      wantY.subarray(i * d, (i + 1) * d),
      { atol: (1e-5 + resolution[i]!) * gammaMax, rtol: 1e-5 },
      `LayerNorm ε ${eps}: row ${i}`,
    );

  const loss64 = (xs: Float64Array, g: Float64Array, b: Float64Array) => layerNorm64(xs, g, b, d, eps).reduce((a, v, i) => a + v * w64[i]!, 0);
  const [dx, dgamma, dbeta] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(a as tf.Tensor2D, g, b, eps), w)))([
    x,
    gamma,
    beta,
  ]);
  // Steps a thousandth of each row's scale; dx is ~1/√(σ² + ε) large on the flat rows: compared to each row's largest entry.
  const wantDx = centralDifferences(
    (v) => loss64(v, gamma64, beta64),
    x64,
    (k) => 1e-3 * rowScale[Math.floor(k / d)]!,
  );
  const gotDx = await dx!.data();
  for (let i = 0; i < rows.length; i++) {
    const row = wantDx.slice(i * d, (i + 1) * d);
    const largest = Math.max(...row.map(Math.abs));
    expectClose(gotDx.subarray(i * d, (i + 1) * d), row, { atol: (1e-5 + resolution[i]!) * largest, rtol: 0 }, `LayerNorm ε ${eps}: dx of row ${i}`);
  }
  expectClose(
    await dgamma!.data(),
    centralDifferences(
      (v) => loss64(x64, v, beta64),
      gamma64,
      () => 1e-4,
    ),
    { atol: 2e-3, rtol: 1e-4 },
    "dγ",
  );
  expectClose(
    await dbeta!.data(),
    centralDifferences(
      (v) => loss64(x64, gamma64, v),
      beta64,
      () => 1e-4,
    ),
    { atol: 1e-4, rtol: 1e-5 },
    "dβ",
  );
  tf.dispose([x, gamma, beta, w, y, dx!, dgamma!, dbeta!]);
};

/**
 * Attention whose scores are huge (hundreds: e^s overflows float32 without the row's max taken
 * off), exactly equal (q = 0: uniform rows; two equal keys: a tie at the top), against float64;
 * the gradient of a loss on output and probabilities against central differences.
 */
export const expectAttentionOnExtremeScores = async (): Promise<void> => {
  const [n, t, heads, d] = [2, 5, 2, 4];
  const w = heads * d;
  const r = rng(9, "extreme scores");
  const qkv64 = new Float64Array(n * t * 3 * w);
  for (let image = 0; image < n; image++)
    for (let token = 0; token < t; token++)
      for (let c = 0; c < w; c++) {
        const at = (part: number) => (image * t + token) * 3 * w + part * w + c;
        const head = Math.floor(c / d);
        if (image === 0) {
          // Head 0: scores in the hundreds, of either sign; head 1: queries zero, so every score is 0.
          qkv64[at(0)] = head === 0 ? 12 * r.normal() : 0;
          qkv64[at(1)] = 12 * r.normal();
        } else {
          // Positive queries; keys 0 and 1 equal and the largest: every row ties between them, ~50 above the rest.
          qkv64[at(0)] = 12 + 2 * r.normal();
          qkv64[at(1)] = token < 2 ? 14 : 12 + 0.2 * r.normal();
        }
        qkv64[at(2)] = r.normal();
      }
  const values = f32(qkv64);
  const qkv = tf.tensor2d(Float32Array.from(values), [n * t, 3 * w]);
  const want = attention64(values, n, t, heads);
  const { output, weights } = attention(qkv, n, t, heads);
  const probs = await weights.data();
  expectClose(probs, want.probs, { atol: 2e-5, rtol: 1e-4 }, "probabilities");
  expectClose(await output.data(), want.out, { atol: 1e-4, rtol: 1e-4 }, "output");
  // Image 0's head 1 is exactly uniform; image 1's rows split evenly between keys 0 and 1.
  expect(Math.max(...[...probs.subarray(t * t, 2 * t * t)].map((p) => Math.abs(p - 1 / t)))).toBeLessThan(1e-7);
  expect(Math.max(...[...probs.subarray(2 * t * t)].map((p, i) => Math.abs(p - (i % t < 2 ? 0.5 : 0))))).toBeLessThan(1e-5);
  const [rOut, rProbs] = [f32(Array.from({ length: n * t * w }, () => r.normal())), f32(Array.from({ length: n * heads * t * t }, () => r.normal()))];
  const loss64 = (v: Float64Array) => {
    const a = attention64(v, n, t, heads);
    return a.out.reduce((s, x, i) => s + x * rOut[i]!, 0) + a.probs.reduce((s, x, i) => s + x * rProbs[i]!, 0);
  };
  const grad = tf.grad((x: tf.Tensor) => {
    const a = attention(x as tf.Tensor2D, n, t, heads);
    return tf.add(
      tf.sum(tf.mul(a.output, tf.tensor2d(Float32Array.from(rOut), [n * t, w]))),
      tf.sum(tf.mul(a.weights, tf.tensor3d(Float32Array.from(rProbs), [n * heads, t, t]))),
    );
  })(qkv);
  expectClose(
    await grad.data(),
    centralDifferences(loss64, values, () => 1e-4),
    { atol: 2e-3, rtol: 1e-3 },
    "d qkv",
  );
  tf.dispose([qkv, output, weights, grad]);
};

/** Mean over rows of −Σ_k target_k log softmax(z)_k, target = (1 − ε) onehot + ε/K, in float64 (log-sum-exp about the row's max). */
export const crossEntropy64 = (z: Float64Array, labels: readonly number[], k: number, smoothing: number): number => {
  let total = 0;
  labels.forEach((label, i) => {
    const row = z.subarray(i * k, (i + 1) * k);
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    for (let j = 0; j < k; j++) total -= ((j === label ? 1 - smoothing : 0) + smoothing / k) * (row[j]! - logSum);
  });
  return total / labels.length;
};

/**
 * Cross-entropy on logits a thousand apart (probabilities one-hot to float32, log-probabilities
 * of −2000), all equal, or huge and negative, labelled at the top or the bottom, with label
 * smoothing 0, near one-hot (10⁻⁴) and 0.1: value and gradient against float64.
 */
export const expectCrossEntropyOnExtremeLogits = async (): Promise<void> => {
  const k = 5;
  const rows = [
    [1000, 0, -1000, 3, 2],
    [1000, 0, -1000, 3, 2],
    [88, 88, 88, 88, 88],
    [-1e4, -1e4 + 1, -1e4 + 2, -1e4, -1e4 - 30],
    [40, 40, -40, 0, 39.5],
  ];
  const labels = [0, 2, 3, 4, 1];
  const z64 = f32(rows.flat());
  const logits = tf.tensor2d(Float32Array.from(z64), [rows.length, k]);
  const y = tf.tensor1d(labels, "int32");
  for (const smoothing of [0, 1e-4, 0.1]) {
    const f = (t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, y, smoothing);
    const value = crossEntropy64(z64, labels, k, smoothing);
    expectClose(await f(logits).data(), [value], { atol: 1e-5, rtol: 1e-6 }, `cross-entropy, smoothing ${smoothing}`);
    expectClose(
      await tf.grad(f)(logits).data(),
      centralDifferences(
        (v) => crossEntropy64(v, labels, k, smoothing),
        z64,
        () => 1e-3,
      ),
      { atol: 1e-6, rtol: 1e-4 },
      `its gradient, smoothing ${smoothing}`,
    );
  }
  tf.dispose([logits, y]);
};

/** Φ in float64 without cancellation in the lower tail: ½ erfc(−x/√2). */
const normalCdf64 = (x: number) => (x < 0 ? 0.5 * (1 - erf64(-x / Math.SQRT2)) : 0.5 * (1 + erf64(x / Math.SQRT2)));

/** GELU and its derivative far out: tiny, the tails where erf saturates and e^{−x²/2} underflows, up to 10³⁸ (float32 reaches 3.4·10³⁸). */
export const expectGeluInItsTails = async (): Promise<void> => {
  const magnitudes = [1e-30, 1e-8, 0.5, 5, 8.5, 10, 13.3, 14, 18, 27, 40, 1e3, 1e15, 1e30, 1e36, 1e38];
  const xs = f32(magnitudes.flatMap((m) => [m, -m]));
  const x = tf.tensor1d(Float32Array.from(xs));
  const dy = tf.ones([xs.length]);
  const [y, dx] = [gelu(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)))(x)];
  const pdf = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
  expectClose(
    await y.data(),
    Array.from(xs, (v) => v * normalCdf64(v)),
    { atol: 1e-6, rtol: 1e-6 },
    "GELU",
  );
  expectClose(
    await dx.data(),
    Array.from(xs, (v) => normalCdf64(v) + (pdf(v) === 0 ? 0 : v * pdf(v))),
    { atol: 2e-6, rtol: 1e-5 },
    "GELU's derivative",
  );
  tf.dispose([x, dy, y, dx]);
};

/** The edge-case checks as tests, on whichever backend the enclosing describe runs. */
export const edgeNumericsTests = (): void => {
  for (const eps of [1e-6, 1e-5])
    it(`LayerNorm (ε ${eps}) on rows of zero, tiny and ε-sized variance: value, dx, dγ, dβ equal float64`, () => expectLayerNormOnFlatRows(eps));

  it("attention with scores in the hundreds, all equal, or tied at the top: probabilities, output and gradient equal float64", () =>
    expectAttentionOnExtremeScores());

  it("cross-entropy on logits a thousand apart, equal, or −10⁴, with label smoothing 0, 10⁻⁴ and 0.1: value and gradient equal float64", () =>
    expectCrossEntropyOnExtremeLogits());

  it("GELU and its derivative from 10⁻³⁰ to 10³⁸ in both tails equal float64", () => expectGeluInItsTails());
};
