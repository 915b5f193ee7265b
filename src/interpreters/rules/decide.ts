import { categories, type Category } from "../../dsl/rule.js";

/** A candidate of DAF's elite selection: one whole site, its category and what training it costs. */
export interface Unit {
  /** The site's name (`blocks.3.attn.qkv.weight[q]`, `blocks.3.norm1.bias`, `cls_token`). */
  readonly name: string;
  readonly category: Category;
  /** Trainable scalars when selected: the module's size for a matrix, the tensor's size otherwise. */
  readonly cost: number;
  readonly block: number | null;
}

/** Which units train now and which carry state (a module or a tuned copy) from earlier intervals. */
export interface Configuration {
  /** Selected by the latest decision, in candidate order. */
  readonly active: readonly string[];
  /** Every unit ever selected: it keeps its module or tuned value, frozen unless it trains. */
  readonly present: readonly string[];
}

export const emptyConfiguration: Configuration = { active: [], present: [] };

/** Budget in trainable scalars per category: ratio_c · τ · (the total cost of every candidate). */
export const budgets = (units: readonly Unit[], budget: number, ratios: Readonly<Record<Category, number>>): Record<Category, number> => {
  const total = units.reduce((n, u) => n + u.cost, 0);
  return Object.fromEntries(categories.map((c) => [c, Math.floor(ratios[c] * budget * total)])) as Record<Category, number>;
};

/**
 * DAF's decide step (§3.4): within each category, rank the units with a positive finite score
 * (only parameters with non-zero gradient qualify) by score, ties in candidate order, and take
 * each one that still fits the category's budget. `present` grows by the selection.
 */
export const decide = (
  units: readonly Unit[],
  scores: ReadonlyMap<string, number>,
  budget: Readonly<Record<Category, number>>,
  previous: Configuration,
): Configuration => {
  const chosen = new Set<string>();
  for (const category of categories) {
    let left = budget[category];
    const ranked = units
      .map((u, order) => ({ u, order, score: scores.get(u.name) ?? 0 }))
      .filter((x) => x.u.category === category && Number.isFinite(x.score) && x.score > 0)
      .sort((a, b) => b.score - a.score || a.order - b.order);
    for (const { u } of ranked) {
      if (u.cost > left) continue;
      chosen.add(u.name);
      left -= u.cost;
    }
  }
  const before = new Set(previous.present);
  return {
    active: units.filter((u) => chosen.has(u.name)).map((u) => u.name),
    present: units.filter((u) => chosen.has(u.name) || before.has(u.name)).map((u) => u.name),
  };
};

/** The units that train under a configuration: the selection, or under DAF-Accumulate every unit ever selected. */
export const trainingUnits = (c: Configuration, retain: "refocus" | "accumulate"): readonly string[] => (retain === "refocus" ? c.active : c.present);

/** s ← ema·s_old + (1 − ema)·s_new where an old score exists (the code's EMA); the new scores alone without EMA. */
export const smoothScores = (fresh: ReadonlyMap<string, number>, old: ReadonlyMap<string, number> | null, ema: number | null): Map<string, number> =>
  new Map([...fresh].map(([k, s]) => [k, ema === null || old === null || !old.has(k) ? s : ema * old.get(k)! + (1 - ema) * s]));
