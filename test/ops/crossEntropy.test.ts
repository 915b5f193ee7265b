import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, it } from "vitest";
import { crossEntropy } from "../../src/ops/crossEntropy.js";
import { rng } from "../../src/util/random.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { numericGradient } from "../support/reference64.js";
import { crossEntropy64 } from "../support/edgeNumerics.js";

describe("cross-entropy and its closed-form gradient", () => {
  useBackend();

  for (const smoothing of [0, 0.1]) {
    it(`value and d/dlogits equal float64 central differences of the definition (label smoothing ${smoothing})`, async () => {
      const [n, k] = [5, 7];
      const r = rng(21, "cross-entropy");
      const z64 = Float64Array.from({ length: n * k }, () => 3 * r.normal());
      const labels = [3, 0, 6, 2, 3];
      const logits = tf.tensor2d(Float32Array.from(z64), [n, k]);
      const y = tf.tensor1d(labels, "int32");
      const f = (t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, y, smoothing);
      const z32 = Float64Array.from(Float32Array.from(z64));
      expectClose(await f(logits).data(), [crossEntropy64(z32, labels, k, smoothing)], { atol: 1e-5, rtol: 1e-5 }, "value");
      expectClose(
        await tf.grad(f)(logits).data(),
        numericGradient((v) => crossEntropy64(v, labels, k, smoothing), z32),
        { atol: 1e-5, rtol: 1e-4 },
        "gradient",
      );
      tf.dispose([logits, y]);
    });
  }
});
