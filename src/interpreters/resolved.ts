import type { Method } from "../dsl/method.js";
import type { VitConfig } from "../models/vitConfig.js";
import { placementParams, type AdapterParam } from "./adapterParams.js";
import type { Leaf } from "./leaves.js";
import { resolveMethod, type Placement } from "./resolve.js";
import type { Unit } from "./rules/decide.js";
import { checkRules } from "./rules/units.js";

/** A leaf at its placement with the tensors it owns. */
export interface ResolvedLeaf {
  readonly placement: Placement;
  readonly leaf: Leaf;
  readonly params: readonly AdapterParam[];
}

/**
 * A method resolved against a backbone config, once, with every check run: where each target's
 * transform sits, each leaf with its tensors, every adapter tensor in the file's order, and a
 * reconfigure rule's candidates. Compile, count, describe, the adapter file and the rules read it.
 */
export interface Resolved {
  readonly method: Method;
  readonly config: VitConfig;
  readonly placements: readonly Placement[];
  readonly leaves: readonly ResolvedLeaf[];
  readonly params: readonly AdapterParam[];
  /** A reconfigure rule's candidate units ([] without one). */
  readonly units: readonly Unit[];
}

export const resolve = (method: Method, config: VitConfig): Resolved => {
  const placements = resolveMethod(method, config);
  const units = checkRules(method, config, placements);
  const leaves: ResolvedLeaf[] = [];
  const params: AdapterParam[] = [];
  for (const placement of placements) {
    const own = placementParams(placement);
    params.push(...own.wrappers);
    for (const { leaf, params: mine } of own.leaves) {
      leaves.push({ placement, leaf, params: mine });
      params.push(...mine);
    }
  }
  return { method, config, placements, leaves, params, units };
};
