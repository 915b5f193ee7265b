import { compileConfiguration, migrate, trainableCount } from "../src/interpreters/rules/configuration.js";
import { budgets, decide, emptyConfiguration } from "../src/interpreters/rules/decide.js";
import { candidateUnits, reconfigureRule } from "../src/interpreters/rules/units.js";
import { countMethod } from "../src/interpreters/count.js";
import { randomVit } from "../src/models/randomVit.js";
import { rng } from "../src/util/random.js";
import type { Law } from "./law.js";
import { logitsOf } from "./harness.js";
import { imagesTensor, mustBeClose, randomAdapterValues, randomImages } from "./setting.js";
import { holds } from "./violation.js";

/**
 * DAF's laws (the DAF paper's §3.4) for a method with a reconfigure rule; others hold vacuously.
 * Two cycles with random scores, random (non-identity) values in between: the model function
 * does not move across the rebuild, and what trains stays within the budget.
 */
export const reconfigurationContinuity: Law = {
  name: "reconfiguration continuity",
  statement:
    "across a rebuild-and-refocus with random scores and random non-identity values, forward(before) ≈ forward(after); the modules trained under refocus never exceed the budget",
  check: async (method, config, seed) => {
    const found = reconfigureRule(method);
    if (found === null) return;
    const action = found.rule.action;
    const units = candidateUnits(action, config);
    const budget = budgets(units, action.budget, action.ratios);
    const r = rng(seed, "law:scores");
    const scores = () => new Map(units.map((u) => [u.name, r.uniform() < 0.2 ? 0 : r.uniform()]));
    const backbone = randomVit(config, seed);
    const images = imagesTensor(config, randomImages(config, 2, seed));
    const first = decide(units, scores(), budget, emptyConfiguration);
    const before = compileConfiguration(method, action, units, first, backbone, seed);
    const second = decide(units, scores(), budget, first);
    const after = compileConfiguration(method, action, units, second, backbone, seed);
    try {
      before.setValues(await randomAdapterValues(before, backbone.weights, seed));
      await migrate(before, after);
      mustBeClose("logits after the rebuild", logitsOf(after, images), logitsOf(before, images), { atol: 1e-5, rtol: 1e-4 });
      if (action.retain === "refocus") {
        const fixed = countMethod(method, config).trainable;
        const limit = budget.matrices + budget.vectors + budget.special;
        holds(trainableCount(after) - fixed <= limit, () => `${trainableCount(after) - fixed} scalars train beyond the fixed targets; the budget is ${limit}`);
      }
    } finally {
      before.dispose();
      after.dispose();
      images.dispose();
    }
  },
};
