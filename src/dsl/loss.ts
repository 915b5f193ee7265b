/**
 * Loss terms added to cross-entropy, each with a weight λ: L = CE + Σ λ_i · L_i.
 * A term with λ = 0 is computed and recorded but does not enter the objective (a monitor).
 */

/** Which block features a term reads: the CLS token (BAFT's paper) or the patch-token mean (its scripts). */
export type FeaturePool = "cls" | "mean";

/** Which blocks: every one, the first three, the last three, or an explicit list of block indices. */
export type Layers = "all" | "early" | "late" | readonly number[];

export type LossTerm =
  /**
   * BAFT (Eq. 2): (1/|layers|) Σ_l ‖S_z⁽ˡ⁾ − S_p‖²_F with S the cosine-similarity matrices of the
   * batch's block features and softmax predictions. `detachPredictions` stops the gradient
   * through S_p (the paper's A.9 suggestion; the paper itself does not detach).
   */
  | { readonly _tag: "Baft"; readonly weight: number; readonly pool: FeaturePool; readonly layers: Layers; readonly detachPredictions: boolean }
  /**
   * RIFT: ‖Σ_z − s² QᵀΣ_p Q‖²_F on the head's input features Z, with the pretrained statistics
   * μ_p, Σ_p set by a `once(featureStatistics())` rule, Q = exp(M − Mᵀ) orthogonal (identity at
   * init; "identity" keeps it fixed, the paper's ablation) and s² = tr Σ_z / tr Σ_p.
   * `mean` adds RIFT*'s ‖μ_z − s Qᵀμ_p‖². `normalised` divides by (tr Σ_z)² (the mean term by
   * tr Σ_z): ‖Σ_z/tr Σ_z − QᵀΣ_pQ/tr Σ_p‖²_F. Unnormalised, the term scales as ‖z‖⁴ and is
   * minimised by shrinking the features to zero, which we measured collapsing full fine-tuning.
   */
  | { readonly _tag: "Rift"; readonly weight: number; readonly rotation: "learned" | "identity"; readonly mean: boolean; readonly normalised: boolean }
  /** RSC: 1 − CKA_lin(Z, Z_pre) on the batch, Z_pre from a frozen pretrained forward pass. */
  | { readonly _tag: "Rsc"; readonly weight: number }
  /** L2-SP: Σ ‖W' − W₀‖²_F over every adapted backbone tensor (a reset head's W₀ is its zero init: there it is weight decay); added modules have no W₀ and are left out. */
  | { readonly _tag: "L2SP"; readonly weight: number };

export const baftTerm = (
  o: { readonly weight?: number; readonly pool?: FeaturePool; readonly layers?: Layers; readonly detachPredictions?: boolean } = {},
): LossTerm => ({ _tag: "Baft", weight: o.weight ?? 0.01, pool: o.pool ?? "cls", layers: o.layers ?? "all", detachPredictions: o.detachPredictions ?? false });

export const riftTerm = (
  o: { readonly weight?: number; readonly rotation?: "learned" | "identity"; readonly mean?: boolean; readonly normalised?: boolean } = {},
): LossTerm => ({ _tag: "Rift", weight: o.weight ?? 1, rotation: o.rotation ?? "learned", mean: o.mean ?? false, normalised: o.normalised ?? true });

export const rscTerm = (o: { readonly weight?: number } = {}): LossTerm => ({ _tag: "Rsc", weight: o.weight ?? 1 });

export const l2spTerm = (o: { readonly weight?: number } = {}): LossTerm => ({ _tag: "L2SP", weight: o.weight ?? 0.01 });

/** The block indices a `Layers` choice names in a model of `depth` blocks. */
export const layerIndices = (layers: Layers, depth: number): number[] => {
  const all = Array.from({ length: depth }, (_, i) => i);
  if (layers === "all") return all;
  if (layers === "early") return all.slice(0, 3);
  if (layers === "late") return all.slice(-3);
  return [...layers];
};

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

export const showLoss = (l: LossTerm): string => {
  switch (l._tag) {
    case "Baft":
      return `baft(λ ${l.weight}, ${l.pool} features, layers ${Array.isArray(l.layers) ? `[${l.layers.join(", ")}]` : l.layers}${l.detachPredictions ? ", predictions detached" : ""})`;
    case "Rift":
      return `${l.mean ? "rift*" : "rift"}(λ ${l.weight}, Q ${l.rotation}${l.normalised ? "" : ", unnormalised"})`;
    case "Rsc":
      return `rsc(λ ${l.weight})`;
    case "L2SP":
      return `l2sp(λ ${l.weight})`;
  }
};
