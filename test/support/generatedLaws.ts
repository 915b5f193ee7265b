import { describe, it } from "vitest";
import fc from "fast-check";
import { allLaws, arbConfig, arbMethod, methodFits } from "../../laws/index.js";
import { useBackend } from "./backend.js";
import type { BackendName } from "../../src/train/backend.js";

/** Every law over generated compositions (any selector; every primitive nested in the combinators), on one backend. */
export const generatedLaws = (backend: BackendName, runs: number): void => {
  describe(`laws over generated compositions on ${backend} (sum/frozen/permuted/quantized over every primitive, under any selector)`, () => {
    useBackend(backend);
    for (const law of allLaws) {
      it(`${law.name}: ${law.statement}`, async () => {
        await fc.assert(
          fc.asyncProperty(arbMethod, arbConfig(), fc.integer({ min: 0, max: 2 ** 30 }), async (method, config, seed) => {
            fc.pre(methodFits(method, config));
            await law.check(method, config, seed);
          }),
          { numRuns: runs, seed: 42 },
        );
      });
    }
  });
};
