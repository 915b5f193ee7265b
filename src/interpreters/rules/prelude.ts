import type { Rule } from "../../dsl/rule.js";
import type { Dataset } from "../../data/dataset.js";
import type { Backbone } from "../../models/backbone.js";
import type { Counter } from "../../util/counter.js";
import type { AdapterValue } from "../adapterParams.js";
import type { Program } from "../compile/program.js";
import { gradientEstimate, type EstimateRecord } from "./gradientEstimate.js";
import { featureStatistics, type StatisticsRecord } from "./featureStatistics.js";

/** What a `once` rule did, kept in result.json, log.jsonl, the checkpoint and the adapter metadata. */
export type PreludeRecord = EstimateRecord | StatisticsRecord;

export const describePrelude = (rule: Rule): string =>
  rule.action._tag === "GradientEstimate"
    ? `gradient pre-estimate over ${rule.action.batches} batches of the frozen model`
    : "pretrained feature mean and covariance over the training set";

/** Run one `once` rule before training: the state values it sets and its record. */
export const runPrelude = (
  rule: Rule,
  program: Program,
  backbone: Backbone,
  train: Dataset,
  batchSize: number,
  progress?: Counter,
): Promise<{ values: Map<string, AdapterValue>; record: PreludeRecord }> =>
  rule.action._tag === "GradientEstimate"
    ? gradientEstimate(program, backbone, rule.action, train, batchSize, progress)
    : featureStatistics(program, train, batchSize, progress);
