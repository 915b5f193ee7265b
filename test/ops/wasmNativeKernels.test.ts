import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { composedLayerNorm, layerNorm } from "../../src/ops/layerNorm.js";
import { composedGelu, gelu } from "../../src/ops/gelu.js";
import { nativeAddon } from "../../src/ops/nativeAddon.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { expectGeluMatchesDefinition, expectLayerNormMatchesDefinition } from "../support/normKernels.js";

// .ci/run sets PEFT_REQUIRE_NATIVE=1 (its machines have node-gyp's compiler), so there these cannot skip.
const native = nativeAddon();
const required = process.env.PEFT_REQUIRE_NATIVE === "1";

describe.skipIf(!("addon" in native) && !required)(
  "GELU and LayerNorm on the wasm backend through the native addon (native/gelu.c, native/layerNorm.c)",
  () => {
    useBackend("wasm");

    it("loads the addon", () => expect("reason" in native ? native.reason : null).toBeNull());

    it("GELU equals x Φ(x) and its derivative Φ(x) + x φ(x) in float64, over ±8 and around 0, and passes NaN and +∞ through", async () => {
      await expectGeluMatchesDefinition();
      expect(Array.from(gelu(tf.tensor1d([NaN, Infinity, 0])).dataSync())).toEqual([NaN, Infinity, 0]);
    });

    it("LayerNorm's value and gradients (dx, dγ, dβ) equal float64 central differences of the definition (37 columns: the vector loops' remainders), a row of NaN stays NaN", async () => {
      await expectLayerNormMatchesDefinition(6, 37, 13);
      const poisoned = layerNorm(tf.tensor2d([1, NaN, 3, 1, 2, 3], [2, 3]), tf.ones([3]), tf.zeros([3]), 1e-6).dataSync();
      expect(Array.from(poisoned.subarray(0, 3)).every(Number.isNaN)).toBe(true);
      expect(Array.from(poisoned.subarray(3)).every(Number.isFinite)).toBe(true);
    });

    it("works on the heap as it is after its outputs are made: an output that grows the heap", () => {
      // 2^22 floats each: the outputs no longer fit the heap the inputs were made in.
      const x = tf.randomUniform([1024, 4096], -3, 3, "float32", 5) as tf.Tensor2D;
      const [g, b] = [tf.randomUniform([4096], 0.5, 1.5, "float32", 6), tf.randomUniform([4096], -1, 1, "float32", 7)];
      for (const [fused, composed] of [
        [gelu(x), composedGelu(x)],
        [layerNorm(x, g, b, 1e-6), composedLayerNorm(x, g, b, 1e-6)],
      ] as const) {
        expectClose(fused.dataSync().subarray(0, 1 << 16), composed.dataSync().subarray(0, 1 << 16), { atol: 2e-5, rtol: 1e-5 }, "first rows");
        tf.dispose([fused, composed]);
      }
      tf.dispose([x, g, b]);
    });

    it("refuses calls whose operands reach outside the heap, before touching it", () => {
      if (!("addon" in native)) throw new Error(native.reason);
      const heap = new Float32Array(32).fill(3);
      expect(() => native.addon.gelu(heap, 0, 4 * 20, 16)).toThrow(/inside the heap/);
      expect(() => native.addon.geluGrad(heap, 0, 0, 4 * 30, 4)).toThrow(/inside the heap/);
      expect(() => native.addon.layerNorm(heap, 0, 0, 0, 4 * 24, 3, 4, 1e-6)).toThrow(/inside the heap/);
      expect(() => native.addon.layerNormGrad(heap, 0, 0, 0, 4 * 16, 4 * 30, 0, 4, 4, 1e-6)).toThrow(/inside the heap/);
      expect(heap.every((v) => v === 3)).toBe(true);
    });
  },
);
