import { countMethod } from "../src/interpreters/count.js";
import type { Law } from "./law.js";
import { withProgram } from "./harness.js";
import { holds } from "./violation.js";

export const countMatchesProgram: Law = {
  name: "count = compiled trainable scalars",
  statement: "the analytic count equals the number of trainable scalars in the compiled program",
  check: (method, config, seed) =>
    withProgram(method, config, seed, ({ program }) => {
      const analytic = countMethod(method, config).trainable;
      let compiled = 0;
      for (const [name, v] of program.variables) if (program.mask.get(name)) compiled += v.size;
      holds(analytic === compiled, () => `count says ${analytic}, the compiled program trains ${compiled}`);
    }),
};
