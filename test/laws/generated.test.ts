import { describe, it } from "vitest";
import fc from "fast-check";
import { allLaws, arbConfig, arbMethod, methodFits } from "../../laws/index.js";
import { useBackend } from "../support/backend.js";

describe("laws over generated compositions (sum/frozen/full/lowRank/spectral/rescale/permuted/quantized/scaleShift under any selector)", () => {
  useBackend();
  for (const law of allLaws) {
    it(`${law.name}: ${law.statement}`, async () => {
      await fc.assert(
        fc.asyncProperty(arbMethod, arbConfig(), fc.integer({ min: 0, max: 2 ** 30 }), async (method, config, seed) => {
          fc.pre(methodFits(method, config));
          await law.check(method, config, seed);
        }),
        { numRuns: 40, seed: 42 },
      );
    });
  }
});
