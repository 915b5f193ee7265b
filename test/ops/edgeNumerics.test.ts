import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, it } from "vitest";
import { attentionKernel } from "../../src/ops/attention.js";
import { layerNormKernel } from "../../src/ops/wasmLayerNorm.js";
import { useBackend } from "../support/backend.js";
import { expectAttentionOnExtremeScores, expectCrossEntropyOnExtremeLogits, expectGeluInItsTails, expectLayerNormOnFlatRows } from "../support/edgeNumerics.js";

/*
 * Inputs small or large against ε and float32's range, against float64 definitions, on the cpu
 * backend (tfjs's composed ops) and on wasm as this machine runs it (the native kernels where the
 * addon built, attention as one kernel where a BLAS loads). The wasm kernels without the addon:
 * edgeNumerics.wasmKernels.test.ts.
 */
for (const backend of ["cpu", "wasm"] as const) {
  describe(`edge-case numerics on ${backend}`, () => {
    useBackend(backend);
    `LayerNorm ${tf.getKernel(layerNormKernel, tf.getBackend()) ? "fused" : "composed"}, attention ${tf.getKernel(attentionKernel, tf.getBackend()) ? "fused" : "composed"}`;

    for (const eps of [1e-6, 1e-5])
      it(`LayerNorm (ε ${eps}) on rows of zero, tiny and ε-sized variance: value, dx, dγ, dβ equal float64`, async () => {
        await expectLayerNormOnFlatRows(eps);
      });

    it("attention with scores in the hundreds, all equal, or tied at the top: probabilities, output and gradient equal float64", () =>
      expectAttentionOnExtremeScores());

    it("cross-entropy on logits a thousand apart, equal, or −10⁴, with label smoothing 0, 10⁻⁴ and 0.1: value and gradient equal float64", () =>
      expectCrossEntropyOnExtremeLogits());

    it("GELU and its derivative from 10⁻³⁰ to 10³⁸ in both tails equal float64", () => expectGeluInItsTails());
  });
}
