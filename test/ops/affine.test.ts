import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import "../../src/ops/gradients.js";
import { testBackend, useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { matmul64 } from "../support/reference64.js";
import { affine, affineKernel, type PlacedProduct } from "../../src/ops/affine.js";
import { frozenLinear, linear } from "../../src/ops/linear.js";
import { openBlas } from "../../src/ops/openBlas.js";

// On wasm with a BLAS (.ci/run requires one) this is the PeftAffine kernel; on cpu (CI's second law run), the composed ops.
const kernelExpected = testBackend === "wasm" && (openBlas(1).loaded || process.env.PEFT_REQUIRE_BLAS === "1");

/** Column ranges of width ≥ 1 inside [0, n): none, the whole width (null), or up to two disjoint blocks. */
const rangesOf = (n: number, kind: number): (readonly [number, number] | null)[] => {
  if (kind === 0) return [];
  if (kind === 1) return [null];
  const cut = Math.max(1, Math.floor(n / 2));
  return kind === 2 || n < 2
    ? [[0, cut]]
    : [
        [0, cut - 1 || 1],
        [cut, n],
      ];
};

describe("affine: x Wᵀ + b + placed low-rank products, and frozenLinear's gradients through it", () => {
  useBackend();

  it(`runs ${kernelExpected ? "as one kernel" : "composed"} on ${testBackend}`, () => {
    expect(tf.getKernel(affineKernel, tf.getBackend()) !== undefined).toBe(kernelExpected);
  });

  it("equals the float64 definition, and its gradients for x and every factor are the float64 ones", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 2, max: 29 }),
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        (m, k, n, r, withBias, kind, seed) => {
          const u = (shape: number[], s: number) => tf.randomUniform<tf.Rank>(shape, -1, 1, "float32", seed + s) as tf.Tensor2D;
          const [x, w, b, dy] = [u([m, k], 0), u([n, k], 1), withBias ? u([n], 2) : undefined, u([m, n], 3)];
          const ranges = rangesOf(n, kind);
          const parts: PlacedProduct[] = ranges.map((range, i) => ({
            range,
            left: u([m, r], 10 + i),
            right: u([range === null ? n : range[1] - range[0], r], 20 + i),
          }));
          const frozen = frozenLinear(w);
          const factors = parts.flatMap((p) => [p.left, p.right]);
          const f = (xs: tf.Tensor, ...fs: tf.Tensor[]) =>
            tf.sum(
              tf.mul(
                frozen.apply(
                  xs as tf.Tensor2D,
                  b,
                  parts.map((p, i) => ({ range: p.range, left: fs[2 * i] as tf.Tensor2D, right: fs[2 * i + 1] as tf.Tensor2D })),
                ),
                dy,
              ),
            );
          const y = frozen.apply(x, b, parts);
          const grads = tf.grads(f)([x, ...factors]);

          const v = (t: tf.Tensor) => t.dataSync() as Float32Array;
          const want = matmul64(v(x), v(w), 1, 1, m, k, n, false, true);
          const dyv = v(dy);
          const columnsOf = (range: readonly [number, number] | null) => {
            const [from, to] = range ?? [0, n];
            return Float64Array.from({ length: m * (to - from) }, (_, i) => dyv[Math.floor(i / (to - from)) * n + from + (i % (to - from))]!);
          };
          for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) want[i * n + j]! += b === undefined ? 0 : v(b)[j]!;
          parts.forEach((p) => {
            const [from, to] = p.range ?? [0, n];
            const product = matmul64(v(p.left), v(p.right), 1, 1, m, r, to - from, false, true);
            for (let i = 0; i < m; i++) for (let j = from; j < to; j++) want[i * n + j]! += product[i * (to - from) + j - from]!;
          });
          const tol = { atol: 2e-5, rtol: 2e-5 };
          expectClose(v(y), want, tol, "value");
          expectClose(v(grads[0]!), matmul64(dyv, v(w), 1, 1, m, n, k), tol, "dx");
          parts.forEach((p, i) => {
            const cols = (p.range ?? [0, n])[1] - (p.range ?? [0, n])[0];
            const dyCols = columnsOf(p.range);
            expectClose(v(grads[1 + 2 * i]!), matmul64(dyCols, v(p.right), 1, 1, m, cols, r), tol, `d left ${i}`);
            expectClose(v(grads[2 + 2 * i]!), matmul64(dyCols, v(p.left), 1, 1, cols, m, r, true), tol, `d right ${i}`);
          });
          frozen.dispose();
          tf.dispose([x, w, dy, y, ...factors, ...grads, ...(b === undefined ? [] : [b])]);
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });

  it.runIf(kernelExpected)("the kernel's own gradients for W (either layout) and the bias are the float64 ones", () => {
    for (const transposeW of [true, false]) {
      const [x, dy, b] = [
        tf.randomUniform([9, 4], -1, 1, "float32", 1),
        tf.randomUniform([9, 6], -1, 1, "float32", 2),
        tf.randomUniform([6], -1, 1, "float32", 3),
      ];
      const w = tf.randomUniform(transposeW ? [6, 4] : [4, 6], -1, 1, "float32", 4);
      const [dw, db] = tf.grads((ws: tf.Tensor, bs: tf.Tensor) => tf.sum(tf.mul(affine(x as tf.Tensor2D, ws as tf.Tensor2D, transposeW, bs, []), dy)))([w, b]);
      const v = (t: tf.Tensor) => t.dataSync() as Float32Array;
      const want = transposeW ? matmul64(v(dy), v(x), 1, 1, 6, 9, 4, true) : matmul64(v(x), v(dy), 1, 1, 4, 9, 6, true);
      expectClose(v(dw!), want, { atol: 2e-5, rtol: 2e-5 }, `dW (transposeW ${transposeW})`);
      expectClose(
        v(db!),
        Array.from({ length: 6 }, (_, j) => Array.from({ length: 9 }, (_, i) => v(dy)[i * 6 + j]!).reduce((a, c) => a + c)),
        { atol: 2e-5, rtol: 2e-5 },
        "db",
      );
    }
  });

  it("a trainable linear with a frozen bias: value x Wᵀ + b and the gradients of x and W", () => {
    const [x, w, b, dy] = [
      tf.randomUniform([7, 5], -1, 1, "float32", 1),
      tf.randomUniform([6, 5], -1, 1, "float32", 2),
      tf.randomUniform([6], -1, 1, "float32", 3),
      tf.randomUniform([7, 6], -1, 1, "float32", 4),
    ];
    const v = (t: tf.Tensor) => t.dataSync() as Float32Array;
    const want = matmul64(v(x), v(w), 1, 1, 7, 5, 6, false, true).map((s, i) => s + v(b)[i % 6]!);
    expectClose(v(linear(x as tf.Tensor2D, w as tf.Tensor2D, b)), want, { atol: 2e-5, rtol: 2e-5 }, "value");
    const [dx, dw] = tf.grads((xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.mul(linear(xs as tf.Tensor2D, ws as tf.Tensor2D, b), dy)))([x, w]);
    expectClose(v(dx!), matmul64(v(dy), v(w), 1, 1, 7, 6, 5), { atol: 2e-5, rtol: 2e-5 }, "dx");
    expectClose(v(dw!), matmul64(v(dy), v(x), 1, 1, 6, 7, 5, true), { atol: 2e-5, rtol: 2e-5 }, "dW");
  });
});
