import fc from "fast-check";
import type { Method } from "../src/dsl/method.js";
import type { VitConfig } from "../src/models/vitConfig.js";
import { arbConfig, architectureOf } from "./arbitraries.js";
import { resolveMethod } from "../src/interpreters/resolve.js";
import { MethodError } from "../src/interpreters/methodError.js";
import { codecRoundTrip } from "./codecRoundTrip.js";
import { countMatchesProgram } from "./countMatchesProgram.js";
import { identityAtInit } from "./identityAtInit.js";
import type { Law } from "./law.js";
import { mergeEquivalence } from "./mergeEquivalence.js";
import { noTensorLeak } from "./noTensorLeak.js";
import { partitionCombine } from "./partitionCombine.js";
import { referenceAgreement } from "./referenceAgreement.js";
import { gradientAgreement } from "./gradientAgreement.js";
import { lossAgreement } from "./lossAgreement.js";
import { reconfigurationContinuity } from "./reconfigurationContinuity.js";

export type { Law } from "./law.js";
export { LawViolation } from "./violation.js";
export * from "./arbitraries.js";

/** Every law, in the order `peft laws` reports them. */
export const allLaws: readonly Law[] = [
  codecRoundTrip,
  countMatchesProgram,
  identityAtInit,
  mergeEquivalence,
  referenceAgreement,
  lossAgreement,
  gradientAgreement,
  partitionCombine,
  noTensorLeak,
  reconfigurationContinuity,
];

export interface LawReport {
  readonly law: string;
  readonly statement: string;
  readonly ok: boolean;
  readonly runs: number;
  /** The counterexample and the violation, when the law failed. */
  readonly failure?: string;
}

/** Whether a method resolves on a backbone shape (every target applies somewhere, no clash). */
export const methodFits = (method: Method, config: VitConfig): boolean => {
  try {
    resolveMethod(method, config);
    return true;
  } catch (e) {
    if (e instanceof MethodError) return false;
    throw e;
  }
};

/**
 * The ViTs the laws run on: random small ones (as deep as `config`, with its architecture) where the method fits them;
 * the backbone's own shape when it needs more room (a spectrum with more coefficients than a
 * small matrix has entries), so every run checks something.
 */
export const lawConfigs = (method: Method, config?: VitConfig): { readonly configs: fc.Arbitrary<VitConfig>; readonly small: boolean } => {
  const shapes = arbConfig(config?.depth, config && architectureOf(config));
  const small = shapes.filter((c) => methodFits(method, c));
  const probe = fc.sample(shapes, { numRuns: 40, seed: 0 }).some((c) => methodFits(method, c));
  return probe || config === undefined ? { configs: small, small: true } : { configs: fc.constant(config), small: false };
};

/** Check every law for one method over random ViTs (see lawConfigs), with random weights and values. */
export const checkLaws = async (
  method: Method,
  options: { readonly config?: VitConfig; readonly runs?: number; readonly seed?: number } = {},
): Promise<LawReport[]> => {
  const { configs } = lawConfigs(method, options.config);
  const reports: LawReport[] = [];
  for (const law of allLaws) {
    const result = await fc.check(
      fc.asyncProperty(configs, fc.integer({ min: 0, max: 2 ** 30 }), (config, seed) => law.check(method, config, seed)),
      { numRuns: options.runs ?? 10, seed: options.seed ?? 1 },
    );
    const failure = result.failed
      ? `${result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)} (counterexample: ${JSON.stringify(result.counterexample)})`
      : undefined;
    reports.push({ law: law.name, statement: law.statement, ok: !result.failed, runs: result.numRuns, ...(failure ? { failure } : {}) });
  }
  return reports;
};
