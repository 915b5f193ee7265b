import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { useBackend } from "../support/backend.js";
import { expectLayerNormMatchesDefinition } from "../support/normKernels.js";

// These are the wasm kernels, which run where the native addon did not build: this file keeps it out.
process.env.PEFT_NATIVE = "off";

describe("fused LayerNorm on the wasm backend (kernels/layerNorm.wasm)", () => {
  useBackend("wasm");
  it("value and gradients (dx, dγ, dβ) equal float64 central differences of the definition", () => expectLayerNormMatchesDefinition(7, 12, 11));

  it("is what the model uses on wasm, and only there", () => {
    for (const k of ["PeftLayerNorm", "PeftLayerNormGrad"]) {
      expect(tf.getKernel(k, "wasm"), k).toBeDefined();
      expect(tf.getKernel(k, "cpu"), k).toBeUndefined();
    }
  });
});
