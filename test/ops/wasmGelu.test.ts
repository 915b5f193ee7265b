import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { composedGelu, gelu } from "../../src/ops/gelu.js";
import { erf64 } from "../../src/interpreters/reference/erf64.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";

describe("fused GELU on the wasm backend (kernels/gelu.wasm)", () => {
  useBackend("wasm");

  it("equals x Φ(x) and its derivative Φ(x) + x φ(x) in float64, over ±8 and around 0", () => {
    const xs = Float32Array.from({ length: 4001 }, (_, i) => -8 + (16 * i) / 4000);
    const x = tf.tensor1d(xs);
    const dy = tf.randomUniform([xs.length], -2, 2, "float32", 3) as tf.Tensor1D;
    const value = gelu(x);
    const grads = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)))(x);
    const cdf = (v: number) => 0.5 * (1 + erf64(v / Math.SQRT2));
    const pdf = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    expectClose(
      value.dataSync(),
      Array.from(xs, (v) => v * cdf(v)),
      { atol: 2e-6, rtol: 1e-6 },
      "GELU",
    );
    const d = dy.dataSync();
    expectClose(
      grads.dataSync(),
      Array.from(xs, (v, i) => d[i]! * (cdf(v) + v * pdf(v))),
      { atol: 4e-6, rtol: 1e-5 },
      "GELU gradient",
    );
    expectClose(value.dataSync(), composedGelu(x).dataSync(), { atol: 2e-6, rtol: 1e-6 }, "fused vs composed");
    tf.dispose([x, dy, value, grads]);
  });

  it("is what the model uses on wasm (the kernel is registered there, as is S²FT's permutation; test/ops/indexOps.test.ts runs that on wasm)", () => {
    for (const k of ["PeftGelu", "PeftGeluGrad", "PeftScatter2", "PeftGather2"]) {
      expect(tf.getKernel(k, "wasm"), k).toBeDefined();
      expect(tf.getKernel(k, "cpu"), k).toBeUndefined();
    }
  });
});
