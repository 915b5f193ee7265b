import { empty } from "../src/dsl/method.js";
import { compile } from "../src/interpreters/compile/program.js";
import { leaves, startsAtIdentity } from "../src/interpreters/leaves.js";
import type { Law } from "./law.js";
import { logitsOf, withProgram } from "./harness.js";
import { mustBeClose } from "./setting.js";
import { maxAbsDiff } from "../src/util/tolerance.js";
import { holds } from "./violation.js";

/**
 * Transforms that start at ΔW = 0 (LoRA's B is zero, `full` copies the pretrained value, a
 * zero-init spectrum) compute the pretrained function when freshly compiled; a method with a
 * non-zero initial ΔW (FourierFT's N(0,1) spectrum) must change it.
 */
export const identityAtInit: Law = {
  name: "identity at init",
  statement: "a freshly compiled method computes the pretrained function exactly when every transform starts at ΔW = 0",
  check: (method, config, seed) =>
    withProgram(method, config, seed, ({ backbone, program, images }) => {
      const base = compile(empty, backbone, { seed });
      try {
        const adapted = logitsOf(program, images);
        const pretrained = logitsOf(base, images);
        if (program.placements.every((p) => leaves(p.transform).every(startsAtIdentity))) {
          mustBeClose("logits at init", adapted, pretrained, { atol: 1e-6, rtol: 1e-6 });
        } else {
          holds(maxAbsDiff(adapted, pretrained) > 1e-6, () => "a transform with a non-zero initial ΔW left the function unchanged");
        }
      } finally {
        base.dispose();
      }
    }),
};
