import { describe, it } from "vitest";
import fc from "fast-check";
import { allLaws, arbConfig, arbMethod } from "../../laws/index.js";
import type { Method } from "../../src/dsl/method.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { resolveMethod } from "../../src/interpreters/resolve.js";
import { MethodError } from "../../src/interpreters/methodError.js";
import { useBackend } from "../support/backend.js";

const applicable = (m: Method, c: VitConfig): boolean => {
  try {
    resolveMethod(m, c);
    return true;
  } catch (e) {
    if (e instanceof MethodError) return false;
    throw e;
  }
};

describe("laws over generated compositions (sum/frozen/full/lowRank/spectral under any selector)", () => {
  useBackend();
  for (const law of allLaws) {
    it(`${law.name}: ${law.statement}`, () => {
      fc.assert(
        fc.property(arbMethod, arbConfig(), fc.integer({ min: 0, max: 2 ** 30 }), (method, config, seed) => {
          fc.pre(applicable(method, config));
          law.check(method, config, seed);
        }),
        { numRuns: 40, seed: 42 },
      );
    });
  }
});
