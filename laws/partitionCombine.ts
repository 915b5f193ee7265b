import { combine, partition } from "../src/interpreters/partition.js";
import { rng } from "../src/util/random.js";
import type { Law } from "./law.js";
import { withProgram } from "./harness.js";
import { holds } from "./violation.js";

export const partitionCombine: Law = {
  name: "partition/combine inverse",
  statement: "combine(partition(p, m)) = p for the program's parameters and any mask; the parts are disjoint and follow the mask",
  check: async (method, config, seed) =>
    withProgram(method, config, seed, async ({ program }) => {
      const r = rng(seed, "mask");
      const mask = new Map([...program.variables.keys()].map((k) => [k, r.uniform() < 0.5]));
      const [on, off] = partition(program.variables, mask);
      const back = combine(on, off);
      holds(back.size === program.variables.size && [...program.variables].every(([k, v]) => back.get(k) === v), () => "combine(partition(p, m)) ≠ p");
      holds([...on.keys()].every((k) => mask.get(k) && !off.has(k)), () => "the trainable part holds a masked-out or shared key");
      holds([...off.keys()].every((k) => !mask.get(k)), () => "the frozen part holds a masked-in key");
    }),
};
