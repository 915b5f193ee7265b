import { categories, showWhen, type Category, type Reconfigure, type Rule } from "../../dsl/rule.js";
import { showTransform } from "../../dsl/transform.js";
import type { Method } from "../../dsl/method.js";
import type { VitConfig } from "../../models/vitConfig.js";
import { sizeOf, vitSites, type Site } from "../../models/vitParams.js";
import { countTransform } from "../countTransform.js";
import { kindOf, leaves, startsAtIdentity } from "../leaves.js";
import { MethodError } from "../methodError.js";
import { appliesTo, overlaps, resolveSelector, type Placement } from "../resolve.js";
import type { Unit } from "./decide.js";

/** DAF's candidates, in backbone order: each selected site once, with its category and cost. */
export const candidateUnits = (action: Reconfigure, config: VitConfig, path = "action"): Unit[] => {
  const seen = new Map<string, Category>();
  const sites = new Map<string, Site>();
  for (const category of categories) {
    // A role names a module (`proj` picks proj.weight and proj.bias): the matrix category keeps its matrices.
    const selected = resolveSelector(action.candidates[category], config, `${path}.candidates.${category}`).filter((s) => category !== "matrices" || s.matrix);
    for (const site of selected) {
      const other = seen.get(site.name);
      if (other !== undefined)
        throw new MethodError(`${path}.candidates.${category}`, `${site.name} is already a ${other} candidate; each site belongs to one category`);
      if (category === "matrices" && !appliesTo(action.module, site)) {
        throw new MethodError(`${path}.module`, `${showTransform(action.module)} does not apply to the matrix candidate ${site.name}`);
      }
      seen.set(site.name, category);
      sites.set(site.name, site);
    }
  }
  const order = vitSites(config).map((s) => s.name);
  return [...sites.values()]
    .sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))
    .map((site) => {
      const category = seen.get(site.name)!;
      return { name: site.name, category, cost: category === "matrices" ? countTransform(action.module, site) : sizeOf(site.shape), block: site.block };
    });
};

/** The method's reconfiguration rule and its index, if it has one. */
export const reconfigureRule = (m: Method): { readonly index: number; readonly rule: Rule & { readonly action: Reconfigure } } | null => {
  const index = m.rules.findIndex((r) => r.action._tag === "Reconfigure");
  return index < 0 ? null : { index, rule: m.rules[index] as Rule & { readonly action: Reconfigure } };
};

/**
 * What a reconfiguration rule needs to mean something: one such rule; `every` only for it; a
 * module that starts at the identity (else the model would jump when a module is added); ratios
 * within τ; candidates that are not already adapted by a target (`placements`: the method's
 * own). Returns the rule's candidates ([] without a rule).
 */
export const checkRules = (m: Method, config: VitConfig, placements: readonly Placement[]): Unit[] => {
  m.rules.forEach((r, i) => {
    if (r.when._tag === "Every" && r.action._tag !== "Reconfigure")
      throw new MethodError(`rules[${i}].when`, `${showWhen(r.when)} is only for reconfigure; ${r.action._tag} runs once`);
  });
  const found = reconfigureRule(m);
  if (found === null) return [];
  const { index, rule } = found;
  const path = `rules[${index}].action`;
  if (m.rules.filter((r) => r.action._tag === "Reconfigure").length > 1) throw new MethodError(`rules[${index}]`, "a method has at most one reconfigure rule");
  const a = rule.action;
  const t = a.module;
  if (leaves(t).some((l) => kindOf(l) === "replace"))
    throw new MethodError(`${path}.module`, "`full` has no ΔW to add to a frozen matrix; use a low-rank or other additive module");
  if (!leaves(t).every(startsAtIdentity))
    throw new MethodError(`${path}.module`, `${showTransform(t)} does not start at the identity (use zero init), so adding it would change the model`);
  const ratioSum = categories.reduce((s, c) => s + a.ratios[c], 0);
  if (ratioSum > 1 + 1e-9) throw new MethodError(`${path}.ratios`, `the ratios sum to ${ratioSum}; they split τ and must sum to at most 1`);
  const units = candidateUnits(a, config, path);
  if (units.length === 0) throw new MethodError(`${path}.candidates`, "no site is a candidate");
  const sites = new Map(vitSites(config).map((s) => [s.name, s]));
  for (const u of units) {
    const clash = placements.find((p) => overlaps(sites.get(u.name)!, p.site));
    if (clash) throw new MethodError(`${path}.candidates`, `${u.name} is already adapted by targets[${clash.target}]; a candidate must be left to the rule`);
  }
  return units;
};
