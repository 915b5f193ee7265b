/**
 * Schedule rules: when the trainable configuration changes (`when`) and what changes (`action`).
 * Interpreters run them; the rule itself is data. `once` runs before the first training step.
 */
export type When = { readonly _tag: "Once" };

export type Action =
  /**
   * S²FT's pre-estimate (Eq. 4): ΔŴ = −Σ ∇W L over the first `batches` training batches (a
   * shuffle of their own, from `seed`) of the frozen pretrained model, at every site whose
   * transform holds estimated state; then the tours over ΔŴ's rows and columns (Alg. 1) and the
   * spectral positions ∝ |DFT2(T⁻¹ΔŴ)|^γ (Eq. 7) are set from it.
   */
  | { readonly _tag: "GradientEstimate"; readonly batches: number; readonly seed: number }
  /**
   * RIFT's pretrained statistics: the mean μ_p and covariance Σ_p of the frozen model's head-input
   * features over the whole training set, computed once (no per-step teacher pass).
   */
  | { readonly _tag: "FeatureStatistics" };

export interface Rule {
  readonly when: When;
  readonly action: Action;
}

export const once = (action: Action): Rule => ({ when: { _tag: "Once" }, action });

export type GradientEstimate = Extract<Action, { readonly _tag: "GradientEstimate" }>;

export const gradientEstimate = (options: { readonly batches?: number; readonly seed?: number } = {}): GradientEstimate =>
  ({ _tag: "GradientEstimate", batches: options.batches ?? 16, seed: options.seed ?? 0 });

export const featureStatistics = (): Action => ({ _tag: "FeatureStatistics" });

export const showRule = (r: Rule): string =>
  r.action._tag === "GradientEstimate"
    ? `once: gradientEstimate(${r.action.batches} batches, seed ${r.action.seed})`
    : "once: featureStatistics(frozen features over the training set)";
