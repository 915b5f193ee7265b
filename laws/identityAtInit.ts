import { empty } from "../src/dsl/method.js";
import { compile } from "../src/interpreters/compile/program.js";
import { leaves, startsAtIdentity } from "../src/interpreters/leaves.js";
import { mergedBackbone } from "../src/interpreters/merge.js";
import type { Law } from "./law.js";
import { logitsOf, withProgram } from "./harness.js";
import { mustBeClose, weightChange } from "./setting.js";
import { holds } from "./violation.js";

/**
 * Transforms that start at ΔW = 0 (LoRA's B is zero, `full` copies the pretrained value, a
 * zero-init spectrum) compute the pretrained function when freshly compiled; a method with a
 * non-zero initial ΔW (FourierFT's N(0,1) spectrum) must change the weights.
 */
export const identityAtInit: Law = {
  name: "identity at init",
  statement: "a freshly compiled method computes the pretrained function when every transform starts at ΔW = 0, and changes the weights otherwise",
  check: async (method, config, seed) =>
    withProgram(method, config, seed, async ({ backbone, program, images }) => {
      if (!program.placements.every((p) => leaves(p.transform).every(startsAtIdentity))) {
        holds(
          weightChange((await mergedBackbone(program)).weights, backbone.weights) > 1e-6,
          () => "a transform with a non-zero initial ΔW left the weights unchanged",
        );
        return;
      }
      const base = compile(empty, backbone, { seed });
      try {
        mustBeClose("logits at init", logitsOf(program, images), logitsOf(base, images), { atol: 1e-6, rtol: 1e-6 });
      } finally {
        base.dispose();
      }
    }),
};
