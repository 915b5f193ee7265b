import { referenceForward } from "../src/interpreters/reference/forward.js";
import { readHost } from "../src/util/hostRead.js";
import type { Law } from "./law.js";
import { withProgram } from "./harness.js";
import { mustBeClose, randomAdapterValues } from "./setting.js";

export const referenceAgreement: Law = {
  name: "compiled ≈ float64 reference",
  statement: "the compiled tfjs forward (fast paths included) agrees with the float64 reference interpreter on logits, pre-logits and every block",
  check: async (method, config, seed) =>
    withProgram(method, config, seed, async ({ backbone, program, images, imageData }) => {
      const values = await randomAdapterValues(program, backbone.weights, seed);
      program.setValues(values);
      const ref = referenceForward(method, backbone, values, Float64Array.from(imageData), images.shape[0]);
      const tol = { atol: 1e-4, rtol: 1e-4 };
      mustBeClose(
        "logits",
        readHost(() => program.forward(images).logits),
        ref.logits,
        tol,
      );
      mustBeClose(
        "pre-logits",
        readHost(() => program.forward(images).preLogits),
        ref.preLogits,
        tol,
      );
      ref.blocks.forEach((b, i) =>
        mustBeClose(
          `block ${i}`,
          readHost(() => program.forward(images).blocks[i]!),
          b,
          tol,
        ),
      );
    }),
};
