import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { composedLayerNorm, layerNorm } from "../../src/ops/layerNorm.js";
import { rng } from "../../src/util/random.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { numericGradient, weightedLayerNorm64 } from "../support/reference64.js";

describe("fused LayerNorm on the wasm backend (kernels/layerNorm.wasm)", () => {
  useBackend("wasm");
  const [rows, d, eps] = [7, 12, 1e-6];
  const r = rng(11, "layer-norm");
  // Rows of different offsets and scales, γ and β far from 1 and 0, so no term vanishes.
  const x64 = Float64Array.from({ length: rows * d }, (_, k) => 3 * Math.floor(k / d) - 9 + (1 + Math.floor(k / d)) * r.normal());
  const gamma64 = Float64Array.from({ length: d }, () => 1 + r.normal());
  const beta64 = Float64Array.from({ length: d }, () => r.normal());
  const w64 = Float64Array.from({ length: rows * d }, () => r.normal());

  it("value and gradients (dx, dγ, dβ) equal float64 central differences of the definition", () => {
    const [x, gamma, beta, w] = [
      tf.tensor2d(Float32Array.from(x64), [rows, d]),
      tf.tensor1d(Float32Array.from(gamma64)),
      tf.tensor1d(Float32Array.from(beta64)),
      tf.tensor2d(Float32Array.from(w64), [rows, d]),
    ];
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(a as tf.Tensor2D, g, b, eps), w));
    const [dx, dgamma, dbeta] = tf.grads(loss)([x, gamma, beta]);
    const f = (xs: Float64Array, gs: Float64Array, bs: Float64Array) => weightedLayerNorm64(xs, gs, bs, w64, rows, d, eps);
    expectClose(loss(x, gamma, beta).dataSync(), [f(x64, gamma64, beta64)], { atol: 1e-3, rtol: 1e-5 }, "value");
    expectClose(
      dx!.dataSync(),
      numericGradient((v) => f(v, gamma64, beta64), x64),
      { atol: 2e-4, rtol: 1e-3 },
      "dx",
    );
    expectClose(
      dgamma!.dataSync(),
      numericGradient((v) => f(x64, v, beta64), gamma64),
      { atol: 2e-4, rtol: 1e-3 },
      "dγ",
    );
    expectClose(
      dbeta!.dataSync(),
      numericGradient((v) => f(x64, gamma64, v), beta64),
      { atol: 2e-4, rtol: 1e-3 },
      "dβ",
    );
    expectClose(layerNorm(x, gamma, beta, eps).dataSync(), composedLayerNorm(x, gamma, beta, eps).dataSync(), { atol: 2e-6, rtol: 1e-5 }, "fused vs composed");
    tf.dispose([x, gamma, beta, w, dx!, dgamma!, dbeta!]);
  });

  it("is what the model uses on wasm, and only there", () => {
    for (const k of ["PeftLayerNorm", "PeftLayerNormGrad"]) {
      expect(tf.getKernel(k, "wasm"), k).toBeDefined();
      expect(tf.getKernel(k, "cpu"), k).toBeUndefined();
    }
  });
});
