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
  { readonly _tag: "GradientEstimate"; readonly batches: number; readonly seed: number };

export interface Rule {
  readonly when: When;
  readonly action: Action;
}

export const once = (action: Action): Rule => ({ when: { _tag: "Once" }, action });

export const gradientEstimate = (options: { readonly batches?: number; readonly seed?: number } = {}): Action =>
  ({ _tag: "GradientEstimate", batches: options.batches ?? 16, seed: options.seed ?? 0 });

export const showRule = (r: Rule): string =>
  `once: gradientEstimate(${r.action.batches} batches, seed ${r.action.seed})`;
