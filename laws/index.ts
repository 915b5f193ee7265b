import fc from "fast-check";
import type { Method } from "../src/dsl/method.js";
import type { VitConfig } from "../src/models/vitConfig.js";
import { arbConfig } from "./arbitraries.js";
import { codecRoundTrip } from "./codecRoundTrip.js";
import { countMatchesProgram } from "./countMatchesProgram.js";
import { identityAtInit } from "./identityAtInit.js";
import type { Law } from "./law.js";
import { mergeEquivalence } from "./mergeEquivalence.js";
import { noTensorLeak } from "./noTensorLeak.js";
import { partitionCombine } from "./partitionCombine.js";
import { referenceAgreement } from "./referenceAgreement.js";

export type { Law } from "./law.js";
export { LawViolation } from "./violation.js";
export * from "./arbitraries.js";

/** Every law, in the order `peft laws` reports them. */
export const allLaws: readonly Law[] = [
  codecRoundTrip, countMatchesProgram, identityAtInit, mergeEquivalence, referenceAgreement, partitionCombine, noTensorLeak,
];

export interface LawReport {
  readonly law: string;
  readonly statement: string;
  readonly ok: boolean;
  readonly runs: number;
  /** The counterexample and the violation, when the law failed. */
  readonly failure?: string;
}

/** Check every law for one method over random small ViTs (depth taken from `config` when given). */
export const checkLaws = (method: Method, options: { readonly config?: VitConfig; readonly runs?: number; readonly seed?: number } = {}): LawReport[] =>
  allLaws.map((law) => {
    const result = fc.check(
      fc.property(arbConfig(options.config?.depth), fc.integer({ min: 0, max: 2 ** 30 }), (config, seed) => law.check(method, config, seed)),
      { numRuns: options.runs ?? 10, seed: options.seed ?? 1 },
    );
    const failure = result.failed ? `${result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)} (counterexample: ${JSON.stringify(result.counterexample)})` : undefined;
    return { law: law.name, statement: law.statement, ok: !result.failed, runs: result.numRuns, ...(failure ? { failure } : {}) };
  });
