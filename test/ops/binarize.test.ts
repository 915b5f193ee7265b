import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import "../../src/ops/gradients.js";
import { binarize, steSign } from "../../src/ops/binarize.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";

const values = fc
  .array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -50, max: 50 }), { minLength: 2, maxLength: 40 })
  .filter((xs) => new Set(xs).size > 1);

describe("1-bit quantiser (Bi-LoRA / Bi-AdaptFormer)", () => {
  useBackend();

  it("gives exactly two values per tensor: mean ± 0.6745·std, by the side of the mean (float64 brute force)", () => {
    fc.assert(
      fc.property(values, (xs) => {
        const q = tf.tidy(() => binarize(tf.tensor1d(xs)).dataSync());
        expect(new Set(q).size).toBeLessThanOrEqual(2);
        const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
        const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
        const expected = xs.map((x) => mean + std * ((x - mean) / (std + 1e-5) >= 0 ? 0.6745 : -0.6745));
        // Entries within float32 rounding of the mean may fall on either side; all others must match.
        const clear = xs.map((x) => Math.abs(x - mean) > 1e-4 * (Math.abs(mean) + std));
        expectClose(
          Array.from(q).filter((_, i) => clear[i]),
          expected.filter((_, i) => clear[i]),
          { atol: 1e-4, rtol: 1e-5 },
          "levels",
        );
      }),
      { numRuns: 200, seed: 12 },
    );
  });

  it("passes the gradient of the sign straight through, and matches the closed-form gradient of the whole quantiser", () => {
    const spread = values.filter((xs) => Math.max(...xs) - Math.min(...xs) > 0.1);
    fc.assert(
      fc.property(spread, fc.nat(1000), (xs, s) => {
        tf.engine().startScope();
        try {
          const x = tf.tensor1d(xs);
          const w = tf.randomNormal([xs.length], 0, 1, "float32", s);
          expect(
            tf
              .grad((v: tf.Tensor) => tf.sum(tf.mul(steSign(v), w)))(x)
              .dataSync(),
          ).toEqual(w.dataSync());
          // out_i = q_i·std + mean with q's gradient taken as z's (mean and std not detached):
          // ∂out_i/∂x_j = std·((δ_ij − 1/n)/e − c_i·s'_j/e²) + q_i·s'_j + 1/n, c = x − mean, e = std + ε, s'_j = c_j/((n−1)·std).
          const W = Array.from(w.dataSync());
          const xf = xs.map(Math.fround);
          const n = xf.length;
          const mean = xf.reduce((a, b) => a + b, 0) / n;
          const c = xf.map((v) => v - mean);
          const std = Math.sqrt(c.reduce((a, b) => a + b * b, 0) / (n - 1));
          const e = std + 1e-5;
          const q = c.map((ci) => (ci / e >= 0 ? 0.6745 : -0.6745));
          const expected = xf.map((_, j) => {
            const sj = c[j]! / ((n - 1) * std);
            return W.reduce((acc, Wi, i) => acc + Wi * (std * (((i === j ? 1 : 0) - 1 / n) / e - (c[i]! * sj) / (e * e)) + q[i]! * sj + 1 / n), 0);
          });
          expectClose(
            tf
              .grad((v: tf.Tensor) => tf.sum(tf.mul(binarize(v), w)))(x)
              .dataSync(),
            expected,
            { atol: 1e-4, rtol: 1e-3 },
            "gradient",
          );
        } finally {
          tf.engine().endScope();
        }
      }),
      { numRuns: 100, seed: 13 },
    );
  });

  it("has a finite gradient on a constant tensor (LoRA's B = 0 at init) and keeps it at zero", () => {
    tf.tidy(() => {
      const zeros = tf.zeros([6]);
      expect([...binarize(zeros).dataSync()]).toEqual([0, 0, 0, 0, 0, 0]);
      const g = tf
        .grad((v: tf.Tensor) => tf.sum(tf.mul(binarize(v), tf.range(1, 7))))(zeros)
        .dataSync();
      expect([...g].every(Number.isFinite)).toBe(true);
    });
  });
});
