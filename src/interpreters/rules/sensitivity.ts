import type { Reconfigure } from "../../dsl/rule.js";
import type { Backbone } from "../../models/backbone.js";
import type { Batch } from "../../data/dataset.js";
import { vitSites } from "../../models/vitParams.js";
import { siteValues } from "../adapterParams.js";
import type { Program } from "../compile/program.js";
import { mergedBackbone } from "../merge.js";
import { classMeanHead, headIsZero, preEstimate } from "./backboneGradient.js";
import type { Unit } from "./decide.js";

/**
 * DAF's perceive step (Eq. 2): s = Σ_entries |g ⊙ w| per unit, g the gradient of the task loss
 * summed over the batches. "context" (§3.3): the current model with every module in the forward
 * pass and nothing of it trained — a module adds ΔW to W, so ∂L/∂W = ∂L/∂(W + ΔW) and the merged
 * model gives g; w is the backbone's own value (a tuned vector's current one). "pristine"
 * (DAF-Naive): g and w of the pretrained backbone. A zero (reset) head passes no gradient, so
 * the class-mean head of the pretrained features stands in for it, as in S²FT's pre-estimate.
 */
export const sensitivity = async (
  program: Program,
  pretrained: Backbone,
  action: Reconfigure,
  units: readonly Unit[],
  batches: readonly Batch[],
  shape: readonly number[],
): Promise<Map<string, number>> => {
  const analysed = action.analysis === "context" ? await mergedBackbone(program) : pretrained;
  const probe = headIsZero(analysed) || action.analysis === "pristine" ? await classMeanHead(program, analysed, batches, shape) : analysed;
  const sites = new Map(vitSites(pretrained.config).map((s) => [s.name, s]));
  const chosen = units.map((u) => sites.get(u.name)!);
  const minusGradients = await preEstimate(probe, chosen, batches, shape);
  // The backbone's value: the pretrained W under a module, the current value of a tuned copy.
  const values = action.analysis === "context" ? await program.values() : new Map();
  const tuned = new Map(program.params.filter((p) => p.role === "value").map((p) => [p.placement.site.name, p.name]));
  return new Map(
    chosen.map((site) => {
      const g = minusGradients.get(site.name)!;
      const own = tuned.has(site.name) ? values.get(tuned.get(site.name)!) : undefined;
      const w = own ?? siteValues(site, pretrained.weights);
      let s = 0;
      for (let i = 0; i < g.length; i++) s += Math.abs(g[i]! * w[i]!);
      return [site.name, s];
    }),
  );
};
