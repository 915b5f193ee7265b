import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it, vi } from "vitest";
import { it as prop } from "@fast-check/vitest";
import fc from "fast-check";
import { gramDistance, linearCka, rowNormalise } from "../../src/ops/similarity.js";
import { batchMoments, riftDistance } from "../../src/ops/riftDistance.js";
import { orthogonalExp, orthogonalOf, readSquaringsAhead, squaringsFor, taylorOrderFor } from "../../src/ops/orthogonalExp.js";
import { cosineGram64, expSkew64, linearCka64, moments64, rift64 } from "../../src/losses/float64.js";
import { rng } from "../../src/util/random.js";
import { readHost } from "../../src/util/hostRead.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";

const matrix = (r: ReturnType<typeof rng>, rows: number, cols: number, scale = 1) => Float64Array.from({ length: rows * cols }, () => scale * r.normal());

/** A random orthogonal d × d matrix: Gram–Schmidt on Gaussian columns, in float64. */
const randomOrthogonal = (r: ReturnType<typeof rng>, d: number): Float64Array => {
  const q = matrix(r, d, d);
  for (let j = 0; j < d; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[i * d + j]! * q[i * d + k]!;
      for (let i = 0; i < d; i++) q[i * d + j]! -= dot * q[i * d + k]!;
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += q[i * d + j]! ** 2;
    for (let i = 0; i < d; i++) q[i * d + j]! /= Math.sqrt(norm);
  }
  return q;
};

const matmul64 = (a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array => {
  const c = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let l = 0; l < k; l++) for (let j = 0; j < m; j++) c[i * m + j]! += a[i * k + l]! * b[l * m + j]!;
  return c;
};
const transpose64 = (a: ArrayLike<number>, n: number, m: number) => Float64Array.from({ length: n * m }, (_, k) => a[(k % n) * m + Math.floor(k / n)]!);
const t2 = (a: ArrayLike<number>, rows: number, cols: number) => tf.tensor2d(Float32Array.from(a), [rows, cols]);
const scalar = (f: () => tf.Tensor) => readHost(f)[0]!;

const shape = fc.record({
  n: fc.integer({ min: 3, max: 9 }),
  d: fc.integer({ min: 2, max: 7 }),
  k: fc.integer({ min: 2, max: 6 }),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

describe("BAFT's Gram distance, linear CKA and RIFT's distance (laws from the papers' definitions)", () => {
  useBackend();

  prop.prop([shape], { numRuns: 40 })(
    "BAFT ≥ 0 and equals ‖cos(Z) − cos(P)‖²_F in float64; = 0 when P's rows are Z's rotated and rescaled",
    ({ n, d, k, seed }) => {
      const r = rng(seed, "baft");
      const z = matrix(r, n, d);
      const p = matrix(r, n, k).map(Math.abs);
      const value = scalar(() => gramDistance(rowNormalise(t2(z, n, d)), rowNormalise(t2(p, n, k))));
      const sz = cosineGram64(z, n, d);
      const sp = cosineGram64(p, n, k);
      const expected = sz.reduce((s, v, i) => s + (v - sp[i]!) ** 2, 0);
      expect(value).toBeGreaterThanOrEqual(0);
      expectClose([value], [expected], { atol: 1e-5, rtol: 1e-4 });
      // Same cosine structure: P = diag(c) Z R with c > 0 and R orthogonal.
      const same = matmul64(z, randomOrthogonal(r, d), n, d, d).map((v, i) => v * (0.5 + (3 * ((Math.floor(i / d) * 7919) % 13)) / 13));
      expect(scalar(() => gramDistance(rowNormalise(t2(z, n, d)), rowNormalise(t2(same, n, d))))).toBeLessThan(1e-9 * n * n + 1e-10);
    },
  );

  prop.prop([shape], { numRuns: 40 })("for row-normalised Z, P the gradient of ‖ZZᵀ − PPᵀ‖²_F in Z is 4(ZZᵀ − PPᵀ)Z", ({ n, d, k, seed }) => {
    const r = rng(seed, "baft-grad");
    const unit = (x: Float64Array, cols: number) =>
      x.map((v, i) => v / Math.hypot(...x.subarray(Math.floor(i / cols) * cols, (Math.floor(i / cols) + 1) * cols)));
    const z = unit(matrix(r, n, d), d);
    const p = unit(matrix(r, n, k), k);
    const g = readHost(() => tf.grad((x: tf.Tensor) => gramDistance(x as tf.Tensor2D, t2(p, n, k)))(t2(z, n, d)));
    const zz = matmul64(z, transpose64(z, n, d), n, d, n);
    const pp = matmul64(p, transpose64(p, n, k), n, k, n);
    const expected = matmul64(
      zz.map((v, i) => 4 * (v - pp[i]!)),
      z,
      n,
      n,
      d,
    );
    expectClose(g, expected, { atol: 1e-4, rtol: 1e-4 });
  });

  prop.prop([shape], { numRuns: 40 })(
    "linear CKA is 1 for identical inputs and invariant to orthogonal maps and isotropic scaling of either side; tfjs = float64",
    ({ n, d, k, seed }) => {
      const r = rng(seed, "cka");
      const x = matrix(r, n, d);
      const y = matrix(r, n, k);
      const cka = scalar(() => linearCka(t2(x, n, d), t2(y, n, k)));
      const cka64 = linearCka64(x, y, n, d, k);
      expectClose([cka], [cka64], { atol: 1e-5, rtol: 1e-4 });
      expectClose([scalar(() => linearCka(t2(x, n, d), t2(x, n, d)))], [1], { atol: 1e-5, rtol: 0 });
      expectClose([linearCka64(x, x, n, d, d)], [1], { atol: 1e-12, rtol: 0 });
      const xr = matmul64(x, randomOrthogonal(r, d), n, d, d).map((v) => 3.7 * v);
      const yr = matmul64(y, randomOrthogonal(r, k), n, k, k).map((v) => 0.2 * v);
      expectClose([linearCka64(xr, y, n, d, k), linearCka64(x, yr, n, d, k)], [cka64, cka64], { atol: 1e-12, rtol: 1e-9 });
      expectClose([scalar(() => linearCka(t2(xr, n, d), t2(yr, n, k)))], [cka64], { atol: 1e-5, rtol: 1e-4 });
    },
  );

  prop.prop([shape, fc.boolean(), fc.boolean()], { numRuns: 30 })(
    "RIFT's distance is unchanged when the pretrained statistics are rotated by R and Q becomes RQ; tfjs = float64",
    ({ n, d, seed }, withMean, normalised) => {
      const r = rng(seed, "rift");
      const z = matrix(r, n + d, d);
      const c = matrix(r, d, d);
      const sigmaP = matmul64(c, transpose64(c, d, d), d, d, d).map((v, i) => v / d + (i % (d + 1) === 0 ? 0.1 : 0));
      const muP = matrix(r, 1, d);
      const q = randomOrthogonal(r, d);
      const rot = randomOrthogonal(r, d);
      const rows = n + d;
      const value = (mu: ArrayLike<number>, sigma: ArrayLike<number>, qq: ArrayLike<number>) =>
        scalar(() => riftDistance(batchMoments(t2(z, rows, d)), { mean: t2(mu, 1, d), covariance: t2(sigma, d, d) }, t2(qq, d, d), withMean, normalised));
      const base = value(muP, sigmaP, q);
      // Σ_p → R Σ_p Rᵀ, μ_p → R μ_p (as a row: μ_pᵀ Rᵀ), Q → R Q.
      const rotated = value(
        matmul64(muP, transpose64(rot, d, d), 1, d, d),
        matmul64(matmul64(rot, sigmaP, d, d, d), transpose64(rot, d, d), d, d, d),
        matmul64(rot, q, d, d, d),
      );
      expectClose([rotated], [base], { atol: 1e-4, rtol: 1e-4 });
      expectClose([base], [rift64(moments64(z, rows, d), { mean: muP, covariance: sigmaP }, q, d, withMean, normalised)], { atol: 1e-4, rtol: 1e-4 });
      if (!normalised) return;
      // Normalised, the term does not see the features' scale.
      expectClose(
        [
          scalar(() =>
            riftDistance(
              batchMoments(tf.mul(t2(z, rows, d), 7.5) as tf.Tensor2D),
              { mean: t2(muP, 1, d), covariance: t2(sigmaP, d, d) },
              t2(q, d, d),
              false,
              true,
            ),
          ),
        ],
        [scalar(() => riftDistance(batchMoments(t2(z, rows, d)), { mean: t2(muP, 1, d), covariance: t2(sigmaP, d, d) }, t2(q, d, d), false, true))],
        { atol: 1e-6, rtol: 1e-4 },
      );
    },
  );

  prop.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 ** 30 }), fc.double({ min: 0.01, max: 6, noNaN: true })], { numRuns: 30 })(
    "exp(M − Mᵀ) is the closed-form rotation R·diag(rot(θ_k))·Rᵀ of its block-diagonal form, and orthogonal to 1e-5 (angles ~ N(0, 6²), several squarings)",
    (blocks, seed, scale) => {
      const r = rng(seed, "expm");
      const d = 2 * blocks;
      const theta = Array.from({ length: blocks }, () => scale * r.normal());
      const basis = randomOrthogonal(r, d);
      // A = R J Rᵀ with J = blockdiag([[0, θ], [−θ, 0]]); M = A/2 gives M − Mᵀ = A.
      const j = new Float64Array(d * d);
      const rotation = Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 1 : 0));
      theta.forEach((t, b) => {
        j[2 * b * d + 2 * b + 1] = t;
        j[(2 * b + 1) * d + 2 * b] = -t;
        rotation[2 * b * d + 2 * b] = Math.cos(t);
        rotation[2 * b * d + 2 * b + 1] = Math.sin(t);
        rotation[(2 * b + 1) * d + 2 * b] = -Math.sin(t);
        rotation[(2 * b + 1) * d + 2 * b + 1] = Math.cos(t);
      });
      const conj = (x: Float64Array) => matmul64(matmul64(basis, x, d, d, d), transpose64(basis, d, d), d, d, d);
      const a = conj(j);
      const norm = Math.sqrt(a.reduce((s, v) => s + v * v, 0));
      const q = readHost(() =>
        orthogonalExp(
          t2(
            a.map((v) => v / 2),
            d,
            d,
          ),
          squaringsFor(norm),
        ),
      );
      expectClose(q, conj(rotation), { atol: 2e-5 * Math.max(1, scale), rtol: 0 });
      const qtq = matmul64(transpose64(q, d, d), q, d, d, d);
      expectClose(
        qtq,
        Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 1 : 0)),
        { atol: 1e-5, rtol: 0 },
      );
    },
  );

  it("takes the fewest Taylor terms whose remainder a^(k+1)/(k+1)! is below 0.5¹³/13!: 12 at ‖A‖ = 1/2, fewer for smaller A (brute force)", () => {
    const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
    const bound = 0.5 ** 13 / factorial(13);
    for (const a of [0, 1e-7, 1e-5, 3e-4, 1e-3, 0.02, 0.1, 0.3, 0.49, 0.5]) {
      const least = [...Array(12).keys()].map((i) => i + 1).find((k) => a ** (k + 1) / factorial(k + 1) <= bound) ?? 12;
      expect(taylorOrderFor(a), `a = ${a}`).toBe(least);
    }
    expect(taylorOrderFor(0.5)).toBe(12);
  });

  it("orthogonalOf on a small M (few Taylor terms) matches the float64 power series in value and gradient", () => {
    const d = 8;
    const r = rng(12, "small-m");
    const m64 = matrix(r, d, d, 1e-3);
    const w = matrix(r, d, d);
    const weighted64 = (v: Float64Array) => expSkew64(v, d).reduce((s, q, k) => s + q * w[k]!, 0);
    const m = t2(m64, d, d);
    const q = readHost(() => orthogonalOf(m));
    expectClose(q, expSkew64(m64, d), { atol: 1e-6, rtol: 0 }, "Q");
    const grad = readHost(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(orthogonalOf(x as tf.Tensor2D), t2(w, d, d))))(m));
    const h = 1e-6;
    const numeric = Array.from(m64, (_, k) => {
      const [up, down] = [Float64Array.from(m64), Float64Array.from(m64)];
      up[k]! += h;
      down[k]! -= h;
      return (weighted64(up) - weighted64(down)) / (2 * h);
    });
    expectClose(grad, numeric, { atol: 1e-4, rtol: 1e-4 }, "dQ/dM");
  });

  it("orthogonalOf uses squarings read ahead for M's current value without reading M, and reads again after M changes", async () => {
    const r = rng(8, "ahead");
    const m = tf.variable(
      tf.tensor2d(
        Array.from({ length: 36 }, () => 3 * r.normal()),
        [6, 6],
      ),
    );
    const synchronous = readHost(() => orthogonalOf(m));
    await readSquaringsAhead(m);
    const reads = vi.spyOn(m, "dataSync");
    expect(readHost(() => orthogonalOf(m))).toEqual(synchronous);
    expect(reads).not.toHaveBeenCalled();
    tf.tidy(() => m.assign(tf.mul(m, 2) as tf.Tensor2D));
    readHost(() => orthogonalOf(m));
    expect(reads).toHaveBeenCalledTimes(1);
    m.dispose();
  });
});
