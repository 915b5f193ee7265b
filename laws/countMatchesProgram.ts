import { countMethod } from "../src/interpreters/count.js";
import type { Law } from "./law.js";
import { withProgram } from "./harness.js";
import { holds } from "./violation.js";

export const countMatchesProgram: Law = {
  name: "count = compiled trainable scalars",
  statement:
    "the analytic count equals the number of trainable adapter scalars in the compiled program, and its auxiliary count the free values of the loss terms' trained generators",
  check: async (method, config, seed) =>
    withProgram(method, config, seed, async ({ program }) => {
      const report = countMethod(method, config);
      const compiled = program.params.reduce((n, p) => n + (program.mask.get(p.name) ? program.variables.get(p.name)!.size : 0), 0);
      holds(report.trainable === compiled, () => `count says ${report.trainable}, the compiled program trains ${compiled}`);
      // RIFT's M is stored d × d, but Q = exp(M − Mᵀ) depends only on its d(d − 1)/2 skew part.
      const auxiliary = program.lossParams.reduce((n, p) => n + (program.mask.get(p.name) ? (p.shape[0]! * (p.shape[0]! - 1)) / 2 : 0), 0);
      holds(report.auxiliary === auxiliary, () => `count says ${report.auxiliary} auxiliary, the compiled loss terms train ${auxiliary}`);
    }),
};
