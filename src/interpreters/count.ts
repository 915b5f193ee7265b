import type { Method } from "../dsl/method.js";
import type { Category } from "../dsl/rule.js";
import { showSelector } from "../dsl/selector.js";
import { showTransform } from "../dsl/transform.js";
import type { VitConfig } from "../models/vitConfig.js";
import { totalParams } from "../models/vitParams.js";
import { resolve, type Resolved } from "./resolved.js";
import { countTransform } from "./countTransform.js";
import { budgets } from "./rules/decide.js";
import { reconfigureRule } from "./rules/units.js";
import { lossKindOf } from "../losses/registry.js";

export { countTransform };

export interface TargetCount {
  readonly target: number;
  readonly description: string;
  readonly sites: number;
  readonly trainable: number;
}

export interface CountReport {
  readonly targets: readonly TargetCount[];
  readonly trainable: number;
  /** Trained only to shape the objective and dropped afterwards (RIFT's Q: d(d−1)/2 free values); not in `trainable`. */
  readonly auxiliary: number;
  readonly backbone: number;
  /** trainable / backbone × 100. */
  readonly percent: number;
  /**
   * Under a reconfigure rule (DAF): the candidates' total size T and the per-category budgets
   * ratio·τ·T that the rule's selection never exceeds; `trainable` counts the fixed targets only.
   */
  readonly reconfigured: { readonly candidates: number; readonly total: number; readonly budget: Readonly<Record<Category, number>> } | null;
}

/** The counts of a resolved method, in closed form. */
export const countResolved = (r: Resolved): CountReport => {
  const { method: m, config, placements, units } = r;
  const rule = reconfigureRule(m);
  const targets = m.targets.map((tg, i): TargetCount => {
    const mine = placements.filter((p) => p.target === i);
    return {
      target: i,
      description: `${showTransform(tg.transform)} on ${showSelector(tg.select)}`,
      sites: mine.length,
      trainable: mine.reduce((n, p) => n + countTransform(p.transform, p.site), 0),
    };
  });
  const trainable = targets.reduce((n, t) => n + t.trainable, 0);
  const backbone = totalParams(config);
  const auxiliary = m.losses.reduce((n, l) => n + (lossKindOf(l).auxiliary?.(l, config) ?? 0), 0);
  const reconfigured =
    rule === null
      ? null
      : {
          candidates: units.length,
          total: units.reduce((n, u) => n + u.cost, 0),
          budget: budgets(units, rule.rule.action.budget, rule.rule.action.ratios),
        };
  return { targets, trainable, auxiliary, backbone, percent: (100 * trainable) / backbone, reconfigured };
};

export const countMethod = (m: Method, config: VitConfig): CountReport => countResolved(resolve(m, config));
