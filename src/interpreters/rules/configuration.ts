import type { Method } from "../../dsl/method.js";
import { target } from "../../dsl/method.js";
import type { Reconfigure } from "../../dsl/rule.js";
import { glob, or } from "../../dsl/selector.js";
import { full } from "../../dsl/transform.js";
import type { Backbone } from "../../models/backbone.js";
import { sizeOf } from "../../models/vitParams.js";
import type { AdapterParam } from "../adapterParams.js";
import { compile, type Program } from "../compile/program.js";
import { trainingUnits, type Configuration, type Unit } from "./decide.js";

/**
 * The plain method a configuration denotes (Eq. 3's rebuilt model): the method's own targets,
 * the rule's module on every matrix that was ever selected, and a tuned copy of every vector
 * or special tensor that was ever selected. No reconfigure rule: an adapter written from it
 * loads without one.
 */
export const configuredMethod = (m: Method, action: Reconfigure, units: readonly Unit[], c: Configuration): Method => {
  const present = new Set(c.present);
  const chosen = (matrices: boolean) => units.filter((u) => present.has(u.name) && (u.category === "matrices") === matrices).map((u) => glob(u.name));
  const modules = chosen(true);
  const tuned = chosen(false);
  return {
    targets: [...m.targets, ...(modules.length > 0 ? [target(or(...modules), action.module)] : []), ...(tuned.length > 0 ? [target(or(...tuned), full)] : [])],
    losses: m.losses,
    rules: m.rules.filter((r) => r.action._tag !== "Reconfigure"),
  };
};

/** Compile a configuration: units that carry state but do not train now are frozen in place. */
export const compileConfiguration = (m: Method, action: Reconfigure, units: readonly Unit[], c: Configuration, backbone: Backbone, seed: number): Program => {
  const training = new Set(trainingUnits(c, action.retain));
  return compile(configuredMethod(m, action, units, c), backbone, { seed, frozenSites: new Set(c.present.filter((u) => !training.has(u))) });
};

/** An adapter tensor's name without its target index: the same tensor keeps its key when targets are renumbered. */
const stableKey = (p: AdapterParam): string => p.name.replace(`${p.placement.site.name}/${p.placement.target}/`, `${p.placement.site.name}/`);

/**
 * Eq. 3's weight migration: every tensor the new program shares with the old one (modules and
 * tuned copies carried over, the head, loss-term state) takes the old value; new modules keep
 * their fresh initialisation, which is the identity.
 */
export const migrate = async (from: Program, to: Program): Promise<void> => {
  const old = await from.values();
  const byKey = new Map(from.params.map((p) => [stableKey(p), old.get(p.name)!]));
  const carried = new Map([
    ...to.params.flatMap((p) => (byKey.has(stableKey(p)) ? [[p.name, byKey.get(stableKey(p))!] as const] : [])),
    ...to.lossParams.flatMap((p) => (old.has(p.name) ? [[p.name, old.get(p.name)!] as const] : [])),
  ]);
  to.setValues(carried);
};

/** Scalars the optimiser updates in a program (loss-term state excluded, as in counts). */
export const trainableCount = (p: Program): number => p.params.filter((x) => p.mask.get(x.name) === true).reduce((n, x) => n + sizeOf(x.shape), 0);
