import { empty } from "../src/dsl/method.js";
import { compile } from "../src/interpreters/compile/program.js";
import { mergedWeights } from "../src/interpreters/merge.js";
import type { Law } from "./law.js";
import { logitsOf, withProgram } from "./harness.js";
import { mustBeClose, randomAdapterValues, weightChange } from "./setting.js";
import { holds } from "./violation.js";

export const mergeEquivalence: Law = {
  name: "merge equivalence",
  statement: "with random (non-identity) adapter values, forward(adapted) ≈ forward(merged weights), and the merged weights differ from the base",
  check: (method, config, seed) =>
    withProgram(method, config, seed, ({ backbone, program, images }) => {
      program.setValues(randomAdapterValues(program, backbone.weights, seed));
      const adapted = logitsOf(program, images);
      const weights = mergedWeights(program);
      const merged = compile(empty, { config, weights }, { seed });
      try {
        mustBeClose("merged logits", logitsOf(merged, images), adapted, { atol: 1e-4, rtol: 1e-4 });
      } finally {
        merged.dispose();
      }
      if (program.params.some((p) => p.trainable)) {
        holds(weightChange(weights, backbone.weights) > 1e-4, () => "random adapter values left the weights unchanged: the law would pass trivially");
      }
    }),
};
