import "../../src/ops/gradients.js";
import { describe, it } from "vitest";
import { useBackend } from "../support/backend.js";
import { expectAttentionOnExtremeScores, expectCrossEntropyOnExtremeLogits, expectGeluInItsTails, expectLayerNormOnFlatRows } from "../support/edgeNumerics.js";

// The wasm kernels (kernels/*.wasm) that run where the native addon did not build: this file keeps it out.
process.env.PEFT_NATIVE = "off";

describe("edge-case numerics on wasm's own kernels (no native addon)", () => {
  useBackend("wasm");

  for (const eps of [1e-6, 1e-5])
    it(`LayerNorm (ε ${eps}) on rows of zero, tiny and ε-sized variance: value, dx, dγ, dβ equal float64`, () => expectLayerNormOnFlatRows(eps));

  it("attention with scores in the hundreds, all equal, or tied at the top: probabilities, output and gradient equal float64", () =>
    expectAttentionOnExtremeScores());

  it("cross-entropy on logits a thousand apart, equal, or −10⁴, with label smoothing 0, 10⁻⁴ and 0.1: value and gradient equal float64", () =>
    expectCrossEntropyOnExtremeLogits());

  it("GELU and its derivative from 10⁻³⁰ to 10³⁸ in both tails equal float64", () => expectGeluInItsTails());
});
