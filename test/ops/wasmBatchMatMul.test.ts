import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { matmul64 as reference } from "../support/reference64.js";

// These are the pure wasm kernels, which run where no BLAS loads: this file keeps OpenBLAS out.
process.env.PEFT_BLAS = "off";

describe("the wasm backend's batched matmul (kernels/batchMatMul.wasm)", () => {
  useBackend("wasm");

  it("equals the float64 product for any shape, tile remainders and broadcast batches included", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 13 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 19 }),
        fc.constantFrom("both", "a", "b"),
        fc.integer({ min: 0, max: 1000 }),
        (batch, m, k, n, broadcast, seed) => {
          const [batchA, batchB] = broadcast === "a" ? [1, batch] : broadcast === "b" ? [batch, 1] : [batch, batch];
          const a = tf.randomUniform([batchA, m, k], -1, 1, "float32", seed) as tf.Tensor3D;
          const b = tf.randomUniform([batchB, k, n], -1, 1, "float32", seed + 1) as tf.Tensor3D;
          const c = tf.matMul(a, b);
          expect(c.shape).toEqual([batch, m, n]);
          expectClose(
            c.dataSync(),
            reference(a.dataSync() as Float32Array, b.dataSync() as Float32Array, batchA, batchB, m, k, n),
            { atol: 1e-5, rtol: 1e-5 },
            "batched product",
          );
          tf.dispose([a, b, c]);
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });

  it("leaves 2-D products and transpose flags to tfjs's own kernel, with the same values", () => {
    const a = tf.randomUniform([3, 7, 5], -1, 1, "float32", 1) as tf.Tensor3D;
    const b = tf.randomUniform([3, 6, 5], -1, 1, "float32", 2) as tf.Tensor3D;
    const flagged = tf.matMul(a, b, false, true);
    const explicit = tf.matMul(a, tf.transpose(b, [0, 2, 1]));
    expectClose(flagged.dataSync(), explicit.dataSync(), { atol: 1e-5, rtol: 1e-5 }, "transposeB flag vs explicit transpose");
    tf.dispose([a, b, flagged, explicit]);
  });
});
