import { method, type Method } from "../dsl/method.js";
import { every, once, reconfigure, type Reconfigure } from "../dsl/rule.js";

export interface DafOptions extends Partial<Omit<Reconfigure, "_tag">> {
  /** E_interval: epochs between reconfigurations (10 in the paper); null: analyse once before training (Static DAF). */
  readonly interval?: number | null;
}

/**
 * DAF (the DAF paper's Alg. 1): analyse before training and every `interval` epochs, select units
 * within the budget, rebuild and refocus. The variants are options of the one rule:
 * Static DAF `interval: null`, DAF-Naive `analysis: "pristine"`, DAF-Accumulate `retain: "accumulate"`.
 * Add the head yourself (`target(role("head"), full)`), as with every other method.
 */
export const daf = (o: DafOptions = {}): Method => {
  const { interval, ...action } = o;
  const rule = reconfigure(action);
  return method({ rules: [interval === null ? once(rule) : every(interval ?? 10, "epochs", rule)] });
};
