import { combine, partition } from "../src/interpreters/partition.js";
import type { Law } from "./law.js";
import { withProgram, withTrainer } from "./harness.js";
import { randomAdapterValues } from "./setting.js";
import { holds } from "./violation.js";

/** The bits of a host copy, so that "unchanged" means bit-identical (NaN included). */
const bits = (v: ArrayLike<number>): string => Buffer.from(new Float64Array(Array.from(v)).buffer).toString("base64");

export const partitionCombine: Law = {
  name: "partition/combine inverse",
  statement:
    "the program's own mask partitions its tensors and combine gives them back; after a train step every tensor the mask leaves out is bit-identical and only masked-in tensors changed",
  check: async (method, config, seed) =>
    withProgram(method, config, seed, async ({ backbone, program, images }) => {
      const [on, off] = partition(program.variables, program.mask);
      const back = combine(on, off);
      holds(back.size === program.variables.size && [...program.variables].every(([k, v]) => back.get(k) === v), () => "combine(partition(p, mask)) ≠ p");
      holds(
        [...on.keys()].every((k) => program.mask.get(k) === true && !off.has(k)),
        () => "the trainable part holds a masked-out or shared key",
      );
      program.setValues(await randomAdapterValues(program, backbone.weights, seed));
      const before = new Map([...(await program.values())].map(([k, v]) => [k, bits(v)]));
      await withTrainer(program, images, config, seed, (step) => step(1e-2));
      const after = await program.values();
      for (const k of off.keys()) holds(bits(after.get(k)!) === before.get(k), () => `${k} is masked out but changed in a train step`);
      const changed = [...on.keys()].filter((k) => bits(after.get(k)!) !== before.get(k));
      holds(on.size === 0 || changed.length > 0, () => `none of the ${on.size} masked-in tensors changed in a train step`);
    }),
};
