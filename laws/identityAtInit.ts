import { empty } from "../src/dsl/method.js";
import { compile } from "../src/interpreters/compile/program.js";
import type { Law } from "./law.js";
import { logitsOf, withProgram } from "./harness.js";
import { mustBeClose } from "./setting.js";

/**
 * Every transform the spine knows starts at ΔW = 0 (LoRA's B is zero, `full` copies the
 * pretrained value), so a freshly compiled method computes the pretrained function.
 */
export const identityAtInit: Law = {
  name: "identity at init",
  statement: "a freshly compiled method computes exactly the pretrained model's function",
  check: (method, config, seed) =>
    withProgram(method, config, seed, ({ backbone, program, images }) => {
      const base = compile(empty, backbone, { seed });
      try {
        mustBeClose("logits at init", logitsOf(program, images), logitsOf(base, images), { atol: 1e-6, rtol: 1e-6 });
      } finally {
        base.dispose();
      }
    }),
};
