import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { useBackend } from "../support/backend.js";
import { expectGeluMatchesDefinition } from "../support/normKernels.js";

// These are the wasm kernels, which run where the native addon did not build: this file keeps it out.
process.env.PEFT_NATIVE = "off";

describe("fused GELU on the wasm backend (kernels/gelu.wasm)", () => {
  useBackend("wasm");

  it("equals x Φ(x) and its derivative Φ(x) + x φ(x) in float64, over ±8 and around 0", () => expectGeluMatchesDefinition());

  it("is what the model uses on wasm (the kernel is registered there, as is S²FT's permutation; test/ops/indexOps.test.ts runs that on wasm)", () => {
    for (const k of ["PeftGelu", "PeftGeluGrad", "PeftScatter2", "PeftGather2"]) {
      expect(tf.getKernel(k, "wasm"), k).toBeDefined();
      expect(tf.getKernel(k, "cpu"), k).toBeUndefined();
    }
  });
});
