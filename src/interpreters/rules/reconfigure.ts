import type { Method } from "../../dsl/method.js";
import type { Category, Reconfigure } from "../../dsl/rule.js";
import { categories } from "../../dsl/rule.js";
import type { Backbone } from "../../models/backbone.js";
import { epochBatches, type Dataset } from "../../data/dataset.js";
import type { Program } from "../compile/program.js";
import { compileConfiguration, migrate, trainableCount } from "./configuration.js";
import { budgets, decide, smoothScores, type Configuration, type Unit } from "./decide.js";
import { sensitivity } from "./sensitivity.js";

/** One perceive–decide–execute cycle, as kept in result.json, log.jsonl and the checkpoint. */
export interface ReconfigurationRecord {
  readonly index: number;
  /** Epoch and optimiser step before which it ran. */
  readonly epoch: number;
  readonly step: number;
  readonly analysis: "context" | "pristine";
  /** The (smoothed) sensitivity of every candidate. */
  readonly scores: Readonly<Record<string, number>>;
  readonly active: readonly string[];
  readonly present: readonly string[];
  readonly budget: Readonly<Record<Category, number>>;
  /** Size of the selection per category (never above `budget`). */
  readonly selected: Readonly<Record<Category, number>>;
  /** Scalars the optimiser updates afterwards, the fixed targets (the head) included. */
  readonly trainable: number;
  readonly seconds: { readonly perceive: number; readonly decide: number; readonly execute: number };
}

/** One progress line: what trains now against the budgets, and what each phase cost. */
export const describeReconfiguration = (r: ReconfigurationRecord): string => {
  const spent = categories.map((c) => r.selected[c]).join("/");
  const limit = categories.map((c) => r.budget[c]).join("/");
  const s = r.seconds;
  return (
    `reconfigure ${r.index} before epoch ${r.epoch}: ${r.active.length} units selected (${spent} of budget ${limit}), ${r.present.length} carry state, ` +
    `${r.trainable.toLocaleString("en-US")} trainable; perceive ${s.perceive.toFixed(2)}s, decide ${s.decide.toFixed(3)}s, execute ${s.execute.toFixed(2)}s`
  );
};

export const configurationOf = (r: ReconfigurationRecord | undefined): Configuration => ({ active: r?.active ?? [], present: r?.present ?? [] });

export interface Cycle {
  readonly method: Method;
  readonly action: Reconfigure;
  readonly units: readonly Unit[];
  readonly backbone: Backbone;
  readonly train: Dataset;
  readonly batchSize: number;
  readonly seed: number;
}

/**
 * Run DAF's cycle on the current program: score (perceive), select (decide), then compile the
 * new configuration and migrate every shared tensor into it (execute). The caller swaps programs
 * and rebuilds the optimiser state, as Alg. 1 line 19.
 */
export const reconfigureCycle = async (
  cycle: Cycle,
  current: Program,
  previous: ReconfigurationRecord | undefined,
  at: { readonly epoch: number; readonly step: number },
): Promise<{ readonly program: Program; readonly record: ReconfigurationRecord }> => {
  const { action, units } = cycle;
  const index = previous === undefined ? 0 : previous.index + 1;
  const t0 = performance.now();
  const batches = epochBatches(cycle.train, cycle.batchSize, action.seed, -2 - index, action.batches);
  const fresh = await sensitivity(current, cycle.backbone, action, units, batches, cycle.train.shape);
  const scores = smoothScores(fresh, previous === undefined ? null : new Map(Object.entries(previous.scores)), action.ema);
  const t1 = performance.now();
  const budget = budgets(units, action.budget, action.ratios);
  const configuration = decide(units, scores, budget, configurationOf(previous));
  const t2 = performance.now();
  const program = compileConfiguration(cycle.method, action, units, configuration, cycle.backbone, cycle.seed);
  await migrate(current, program);
  const t3 = performance.now();
  const active = new Set(configuration.active);
  const selected = Object.fromEntries(
    categories.map((c) => [c, units.filter((u) => u.category === c && active.has(u.name)).reduce((n, u) => n + u.cost, 0)]),
  ) as Record<Category, number>;
  return {
    program,
    record: {
      index,
      epoch: at.epoch,
      step: at.step,
      analysis: action.analysis,
      scores: Object.fromEntries(scores),
      active: configuration.active,
      present: configuration.present,
      budget,
      selected,
      trainable: trainableCount(program),
      seconds: { perceive: (t1 - t0) / 1000, decide: (t2 - t1) / 1000, execute: (t3 - t2) / 1000 },
    },
  };
};
