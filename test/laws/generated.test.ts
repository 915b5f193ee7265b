import { describe, it } from "vitest";
import fc from "fast-check";
import { allLaws, arbConfig, arbMethod, methodFits } from "../../laws/index.js";
import { useBackend } from "../support/backend.js";

describe("laws over generated compositions (sum/frozen/full/lowRank/spectral/rescale/permuted/quantized/scaleShift under any selector)", () => {
  useBackend();
  for (const law of allLaws) {
    it(`${law.name}: ${law.statement}`, () => {
      fc.assert(
        fc.property(arbMethod, arbConfig(), fc.integer({ min: 0, max: 2 ** 30 }), (method, config, seed) => {
          fc.pre(methodFits(method, config));
          law.check(method, config, seed);
        }),
        { numRuns: 40, seed: 42 },
      );
    });
  }
});
