import type { Action, Rule } from "../../dsl/rule.js";
import type { Dataset } from "../../data/dataset.js";
import type { Backbone } from "../../models/backbone.js";
import type { Counter } from "../../util/counter.js";
import type { AdapterValue } from "../adapterParams.js";
import type { Program } from "../compile/program.js";
import { gradientEstimate, type EstimateRecord } from "./gradientEstimate.js";
import { featureStatistics, type StatisticsRecord } from "./featureStatistics.js";

/** What a `once` rule did, kept in result.json, log.jsonl, the checkpoint and the adapter metadata. */
export type PreludeRecord = EstimateRecord | StatisticsRecord;

type Prelude = Exclude<Action, { readonly _tag: "Reconfigure" }>;

/** A `once` action that sets state before training: what it says, what its progress counts, and how it runs. */
interface PreludeKind<A extends Prelude> {
  readonly describe: (a: A) => string;
  readonly counts: string;
  readonly run: (
    a: A,
    program: Program,
    backbone: Backbone,
    train: Dataset,
    batchSize: number,
    progress?: Counter,
  ) => Promise<{ values: Map<string, AdapterValue>; record: PreludeRecord }>;
}

/** Every prelude action by tag (a new one is its line here and its action type in the DSL). */
const preludes: { readonly [K in Prelude["_tag"]]: PreludeKind<Extract<Prelude, { readonly _tag: K }>> } = {
  GradientEstimate: {
    describe: (a) => `gradient pre-estimate over ${a.batches} batches of the frozen model`,
    counts: "gradient pre-estimate (batches)",
    run: (a, program, backbone, train, batchSize, progress) => gradientEstimate(program, backbone, a, train, batchSize, progress),
  },
  FeatureStatistics: {
    describe: () => "pretrained feature mean and covariance over the training set",
    counts: "feature statistics",
    run: (_, program, __, train, batchSize, progress) => featureStatistics(program, train, batchSize, progress),
  },
};

/** Whether a rule is a prelude (runs once before the first step and sets state), not a reconfiguration. */
export const isPrelude = (rule: Rule): rule is Rule & { readonly action: Prelude } => Object.hasOwn(preludes, rule.action._tag);

const kindOf = <A extends Prelude>(a: A): PreludeKind<A> => preludes[a._tag] as unknown as PreludeKind<A>;

export const describePrelude = (rule: Rule & { readonly action: Prelude }): string => kindOf(rule.action).describe(rule.action);

/** What the prelude's progress line counts. */
export const preludeCounts = (rule: Rule & { readonly action: Prelude }): string => kindOf(rule.action).counts;

/** Run one prelude before training: the state values it sets and its record. */
export const runPrelude = (
  rule: Rule & { readonly action: Prelude },
  program: Program,
  backbone: Backbone,
  train: Dataset,
  batchSize: number,
  progress?: Counter,
): Promise<{ values: Map<string, AdapterValue>; record: PreludeRecord }> => kindOf(rule.action).run(rule.action, program, backbone, train, batchSize, progress);
