import { empty } from "../src/dsl/method.js";
import { compile } from "../src/interpreters/compile/program.js";
import { mergedBackbone } from "../src/interpreters/merge.js";
import { leaves, type Leaf } from "../src/interpreters/leaves.js";
import { mlpAdapterWidth } from "../src/models/vitConfig.js";
import type { Law } from "./law.js";
import { logitsOf, withProgram } from "./harness.js";
import { mustBeClose, randomAdapterValues, weightChange } from "./setting.js";
import { holds } from "./violation.js";

/** A leaf's width in its block's merged adapter: a module's bottleneck, else 0. */
const moduleWidth = (l: Leaf): number => (l.primitive.composition.kind === "module" ? l.primitive.composition.width(l.node) : 0);

export const mergeEquivalence: Law = {
  name: "merge equivalence",
  statement:
    "with random (non-identity) adapter values, forward(adapted) ≈ forward(merged backbone), and the merged backbone differs from the base (a non-mergeable module is kept as a module)",
  check: async (method, config, seed) =>
    withProgram(method, config, seed, async ({ backbone, program, images }) => {
      program.setValues(await randomAdapterValues(program, backbone.weights, seed));
      const adapted = logitsOf(program, images);
      // Expected kept modules, from the placements alone: each block's kept width plus its adapters' bottlenecks.
      const widths = Array.from(
        { length: config.depth },
        (_, i) =>
          mlpAdapterWidth(config, i) +
          program.placements
            .filter((p) => p.site.block === i)
            .flatMap((p) => leaves(p.transform))
            .reduce((n, l) => n + moduleWidth(l), 0),
      );
      const mergedModel = await mergedBackbone(program);
      holds(
        JSON.stringify(mergedModel.config.mlpAdapters ?? widths.map(() => 0)) === JSON.stringify(widths),
        () => `merged backbone keeps adapters of widths ${JSON.stringify(mergedModel.config.mlpAdapters ?? [])}, expected ${JSON.stringify(widths)}`,
      );
      const merged = compile(empty, mergedModel, { seed });
      try {
        mustBeClose("merged logits", logitsOf(merged, images), adapted, { atol: 1e-4, rtol: 1e-4 });
      } finally {
        merged.dispose();
      }
      if (program.params.some((p) => p.trainable)) {
        holds(
          weightChange(mergedModel.weights, backbone.weights) > 1e-4,
          () => "random adapter values left the weights unchanged: the law would pass trivially",
        );
      }
    }),
};
