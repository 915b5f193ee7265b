import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { attentionKernel } from "../../src/ops/attention.js";
import { layerNormKernel } from "../../src/ops/wasmLayerNorm.js";
import { nativeAddon } from "../../src/ops/nativeAddon.js";
import { openBlas } from "../../src/ops/openBlas.js";
import { useBackend } from "../support/backend.js";
import { edgeNumericsTests } from "../support/edgeNumerics.js";

/*
 * Inputs small or large against ε and float32's range, against float64 definitions, on the cpu
 * backend (tfjs's composed ops) and on wasm as this machine runs it (the native kernels where the
 * addon built, attention as one kernel where a BLAS loads). The wasm kernels without the addon:
 * edgeNumerics.wasmKernels.test.ts.
 */
for (const backend of ["cpu", "wasm"] as const) {
  describe(`edge-case numerics on ${backend}`, () => {
    useBackend(backend);

    it("runs the kernels this machine has: fused LayerNorm on wasm, fused attention where the addon and a BLAS load (required where PEFT_REQUIRE_NATIVE and PEFT_REQUIRE_BLAS say)", () => {
      const wasm = backend === "wasm";
      expect(tf.getKernel(layerNormKernel, tf.getBackend()) !== undefined).toBe(wasm);
      const fused = wasm && "addon" in nativeAddon() && openBlas(1).loaded;
      if (wasm && process.env.PEFT_REQUIRE_NATIVE === "1") expect("addon" in nativeAddon()).toBe(true);
      if (wasm && process.env.PEFT_REQUIRE_BLAS === "1") expect(fused).toBe(true);
      expect(tf.getKernel(attentionKernel, tf.getBackend()) !== undefined).toBe(fused);
    });

    edgeNumericsTests();
  });
}
