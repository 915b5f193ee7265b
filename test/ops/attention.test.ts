import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import "../../src/ops/gradients.js";
import { attention, attentionKernel } from "../../src/ops/attention.js";
import { nativeAddon } from "../../src/ops/nativeAddon.js";
import { openBlas } from "../../src/ops/openBlas.js";
import { testBackend, useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { attention64, numericGradient } from "../support/reference64.js";

// On wasm with the native addon and a BLAS (.ci/run requires both) one kernel; elsewhere the composed ops.
const fused = testBackend === "wasm" && (("addon" in nativeAddon() && openBlas(1).loaded) || process.env.PEFT_REQUIRE_BLAS === "1");

describe(`attention ${fused ? "as one kernel" : "composed"} on ${testBackend}`, () => {
  useBackend();

  it("runs the route expected", () => expect(tf.getKernel(attentionKernel, tf.getBackend()) !== undefined).toBe(fused));

  it("equals the float64 definition: output, probabilities, and the gradient of a loss on both (central differences)", () => {
    for (const [n, t, heads, d] of [
      [2, 5, 2, 3],
      [1, 7, 3, 4],
      [3, 4, 1, 8],
    ] as const) {
      const w = heads * d;
      const qkv = tf.randomUniform([n * t, 3 * w], -1.5, 1.5, "float32", n + t) as tf.Tensor2D;
      const [r, g] = [tf.randomUniform([n * t, w], -1, 1, "float32", 1), tf.randomUniform([n * heads, t, t], -1, 1, "float32", 2)];
      const { output, weights } = attention(qkv, n, t, heads);
      const values = Float64Array.from(qkv.dataSync());
      const want = attention64(values, n, t, heads);
      expectClose(output.dataSync(), want.out, { atol: 1e-5, rtol: 1e-4 }, `output ${n}·${t}·${heads}·${d}`);
      expectClose(weights.dataSync(), want.probs, { atol: 1e-6, rtol: 1e-4 }, "probabilities");
      const [rv, gv] = [r.dataSync(), g.dataSync()];
      const loss64 = (v: Float64Array) => {
        const { out, probs } = attention64(v, n, t, heads);
        return out.reduce((a, x, i) => a + x * rv[i]!, 0) + probs.reduce((a, x, i) => a + x * gv[i]!, 0);
      };
      const grad = tf.grad((x: tf.Tensor) => {
        const a = attention(x as tf.Tensor2D, n, t, heads);
        return tf.add(tf.sum(tf.mul(a.output, r)), tf.sum(tf.mul(a.weights, g)));
      })(qkv);
      expectClose(grad.dataSync(), numericGradient(loss64, values), { atol: 2e-5, rtol: 1e-3 }, "d qkv");
      // The output's gradient alone: the probabilities unused.
      const onlyOut = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(attention(x as tf.Tensor2D, n, t, heads).output, r)))(qkv);
      const loss64Out = (v: Float64Array) => attention64(v, n, t, heads).out.reduce((a, x, i) => a + x * rv[i]!, 0);
      expectClose(onlyOut.dataSync(), numericGradient(loss64Out, values), { atol: 2e-5, rtol: 1e-3 }, "d qkv from the output");
      tf.dispose([qkv, r, g, output, weights, grad, onlyOut]);
    }
  });

  it("a row of scores holding NaN gives NaN probabilities; the other images stay finite", () => {
    const qkv = tf.tensor2d(
      Array.from({ length: 2 * 3 * 6 }, (_, i) => (i === 0 ? NaN : Math.sin(i))),
      [6, 6],
    );
    const p = attention(qkv, 2, 3, 1).weights.dataSync();
    expect(Number.isNaN(p[0])).toBe(true);
    expect(Array.from(p.subarray(9)).every(Number.isFinite)).toBe(true);
  });
});
