import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import "../../src/ops/gradients.js";
import { permuteMatrix } from "../../src/ops/permuteMatrix.js";
import { scatterFlat } from "../../src/ops/scatterFlat.js";
import { useBackend } from "../support/backend.js";

const perm = (n: number) =>
  fc.shuffledSubarray(
    Array.from({ length: n }, (_, i) => i),
    { minLength: n, maxLength: n },
  );
const inverseOf = (p: readonly number[]) => {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
};
const ints = (xs: readonly number[]) => tf.tensor1d([...xs], "int32");

describe("index ops (values move exactly, gradients move back)", () => {
  useBackend();

  it("permuteMatrix puts X[i, j] at (rows[i], cols[j]), round-trips exactly, and has the brute-force gradient", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 7 })
          .chain((m) =>
            fc
              .integer({ min: 1, max: 7 })
              .chain((n) =>
                fc.tuple(
                  fc.constant(m),
                  fc.constant(n),
                  perm(m),
                  perm(n),
                  fc.array(fc.float({ noNaN: true, min: -100, max: 100 }), { minLength: m * n, maxLength: m * n }),
                  fc.array(fc.float({ noNaN: true, min: -100, max: 100 }), { minLength: m * n, maxLength: m * n }),
                ),
              ),
          ),
        ([m, n, rows, cols, xs, ws]) => {
          tf.engine().startScope();
          try {
            const x = tf.tensor2d(xs, [m, n]);
            const y = permuteMatrix(x, ints(rows), ints(cols)).arraySync();
            for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(y[rows[i]!]![cols[j]!]).toBe(Math.fround(xs[i * n + j]!));
            const back = permuteMatrix(tf.tensor2d(y), ints(inverseOf(rows)), ints(inverseOf(cols)));
            expect(back.dataSync()).toEqual(x.dataSync());
            const w = tf.tensor2d(ws, [m, n]);
            const g = tf
              .grad((v: tf.Tensor) => tf.sum(tf.mul(permuteMatrix(v as tf.Tensor2D, ints(rows), ints(cols)), w)))(x)
              .arraySync() as number[][];
            for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) expect(g[i]![j]).toBe(Math.fround(ws[rows[i]! * n + cols[j]!]!));
          } finally {
            tf.engine().endScope();
          }
        },
      ),
      { numRuns: 60, seed: 9 },
    );
  });

  it("scatterFlat places values at distinct indices and gathers the gradient back", () => {
    tf.tidy(() => {
      const idx = ints([5, 0, 3]);
      const v = tf.tensor1d([1.5, -2, 7]);
      expect([...scatterFlat(v, idx, 6).dataSync()]).toEqual([-2, 0, 0, 7, 0, 1.5]);
      const w = tf.tensor1d([10, 20, 30, 40, 50, 60]);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(scatterFlat(x as tf.Tensor1D, idx, 6), w)))(v);
      expect([...g.dataSync()]).toEqual([60, 10, 40]);
    });
  });
});
