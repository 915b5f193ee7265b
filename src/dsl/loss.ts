/**
 * Loss terms added to cross-entropy, each with a weight λ: L = CE + Σ λ_i · L_i.
 * A term with λ = 0 is computed and recorded but does not enter the objective (a monitor).
 * Each term (BAFT, RIFT, RSC, L2-SP) lives in its own file of `src/losses`, with everything it means.
 */
import { lossKindOf, type LossTerm } from "../losses/registry.js";

export { baftTerm, layerIndices, type Baft, type FeaturePool, type Layers } from "../losses/baft.js";
export { riftTerm, type Rift } from "../losses/rift.js";
export { rscTerm, type Rsc } from "../losses/rsc.js";
export { l2spTerm, type L2sp } from "../losses/l2sp.js";
export type { LossTerm } from "../losses/registry.js";

/** The key a term's value has in `terms` (result.json, log.jsonl): its kind, numbered when repeated. */
export const termNames = (losses: readonly LossTerm[]): string[] => {
  const seen = new Map<string, number>();
  return losses.map((l) => {
    const kind = l._tag.toLowerCase();
    const k = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, k);
    return k === 1 ? kind : `${kind}${k}`;
  });
};

export const showLoss = (l: LossTerm): string => lossKindOf(l).show(l);
