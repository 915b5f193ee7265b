import "../../src/ops/gradients.js";
import { describe } from "vitest";
import { useBackend } from "../support/backend.js";
import { edgeNumericsTests } from "../support/edgeNumerics.js";

// The wasm kernels (kernels/*.wasm) that run where the native addon did not build: this file keeps it out.
process.env.PEFT_NATIVE = "off";

describe("edge-case numerics on wasm's own kernels (no native addon)", () => {
  useBackend("wasm");

  edgeNumericsTests();
});
