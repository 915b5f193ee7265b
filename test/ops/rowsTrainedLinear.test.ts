import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { rowsTrainedLinear } from "../../src/ops/linear.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";

describe("a linear whose weight is trained on some rows only", () => {
  useBackend();

  it("has x Wᵀ's value and dx, and W's gradient on the trained rows (zero elsewhere), against tfjs's own matMul gradient", () => {
    const [x, w, r] = [
      tf.randomNormal([7, 5], 0, 1, "float32", 1) as tf.Tensor2D,
      tf.randomNormal([9, 5], 0, 1, "float32", 2) as tf.Tensor2D,
      tf.randomNormal([7, 9], 0, 1, "float32", 3),
    ];
    const rows = [
      [0, 2],
      [5, 8],
    ] as const;
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(rowsTrainedLinear(rows)(a as tf.Tensor2D, b as tf.Tensor2D), r)));
    const plain = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.matMul(a, b, false, true), r)));
    const [[dx, dw], [dxRef, dwRef]] = [ours([x, w]), plain([x, w])];
    expectClose(rowsTrainedLinear(rows)(x, w).dataSync(), tf.matMul(x, w, false, true).dataSync(), { atol: 1e-5, rtol: 1e-5 }, "value");
    expectClose(dx!.dataSync(), dxRef!.dataSync(), { atol: 1e-5, rtol: 1e-5 }, "dx");
    const [got, want] = [dw!.arraySync() as number[][], dwRef!.arraySync() as number[][]];
    got.forEach((row, i) => {
      const trained = rows.some(([from, to]) => i >= from && i < to);
      expectClose(row, trained ? want[i]! : row.map(() => 0), { atol: 1e-5, rtol: 1e-5 }, `dW row ${i}`);
    });
    expect(want[3]!.some((v) => Math.abs(v) > 1e-3)).toBe(true);
  });
});
