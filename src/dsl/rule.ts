import type { Selector } from "./selector.js";
import { and, not, or, role, showSelector } from "./selector.js";
import type { WeightTransform } from "./transform.js";
import { lowRank, showTransform } from "./transform.js";

/**
 * Schedule rules: when the trainable configuration changes (`when`) and what changes (`action`).
 * Interpreters run them; the rule itself is data. `once` runs before the first training step;
 * `every(n, unit)` before epoch (or step) 0, n, 2n, … — DAF's Alg. 1 analyses before training
 * and then after every E_interval epochs.
 */
export type When = { readonly _tag: "Once" } | { readonly _tag: "Every"; readonly n: number; readonly unit: "epochs" | "steps" };

/** DAF's parameter categories (§3.4): whole linear weights, vectors (norms, biases), special tensors (cls, pos). */
export const categories = ["matrices", "vectors", "special"] as const;
export type Category = (typeof categories)[number];

export type Reconfigure = {
  readonly _tag: "Reconfigure";
  /** τ: the fraction of the total possible PEFT size that may train at once. */
  readonly budget: number;
  /** How τ is split between the categories (the code's 0.3 / 0.4 / 0.3). */
  readonly ratios: Readonly<Record<Category, number>>;
  /** Which backbone sites are candidates in each category. */
  readonly candidates: Readonly<Record<Category, Selector>>;
  /** What a selected matrix gets: LoRA r = 8, α = 1 in DAF; any transform that starts at the identity. */
  readonly module: WeightTransform;
  /** M: training batches whose summed gradient gives s_p = |∂L/∂w_p · w_p| (Eq. 2). */
  readonly batches: number;
  /** "context": the current model with its modules frozen in the forward pass (§3.3); "pristine": the pretrained copy (DAF-Naive). */
  readonly analysis: "context" | "pristine";
  /** Weight of the previous score in s ← ema·s_old + (1 − ema)·s_new (the code's 0.7); null: no smoothing. */
  readonly ema: number | null;
  /** "refocus": only the current selection trains, dropped units freeze (§3.4); "accumulate": every unit ever selected trains (DAF-Accumulate). */
  readonly retain: "refocus" | "accumulate";
  /** Seed of the analysis batches' shuffle. */
  readonly seed: number;
};

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
  | { readonly _tag: "FeatureStatistics" }
  /** DAF's perceive–decide–execute cycle (§3.3–3.4): score the candidates, select within the budget, rebuild and refocus. */
  | Reconfigure;

export interface Rule {
  readonly when: When;
  readonly action: Action;
}

/** Whether a rule runs before this step (0-based): `once` before the first, `every` at multiples of its period. */
export const firesBefore = (when: When, at: { readonly epoch: number; readonly stepInEpoch: number; readonly step: number }): boolean =>
  when._tag === "Once" ? at.step === 0 : when.unit === "epochs" ? at.stepInEpoch === 0 && at.epoch % when.n === 0 : at.step % when.n === 0;

export const once = (action: Action): Rule => ({ when: { _tag: "Once" }, action });

export const every = (n: number, unit: "epochs" | "steps", action: Action): Rule => ({ when: { _tag: "Every", n, unit }, action });

export type GradientEstimate = Extract<Action, { readonly _tag: "GradientEstimate" }>;

export const gradientEstimate = (options: { readonly batches?: number; readonly seed?: number } = {}): GradientEstimate => ({
  _tag: "GradientEstimate",
  batches: options.batches ?? 16,
  seed: options.seed ?? 0,
});

export const featureStatistics = (): Action => ({ _tag: "FeatureStatistics" });

/** DAF's candidates (§3.4, the code's lists): q/k/v/proj/fc1/fc2; norms and biases; cls token and position embedding. The head is never a candidate. */
export const dafCandidates: Readonly<Record<Category, Selector>> = {
  matrices: role("q", "k", "v", "proj", "fc1", "fc2"),
  vectors: and(or(role("norm"), role("bias")), not(role("head"))),
  special: role("cls", "pos"),
};

/** DAF's defaults (paper A.2 and its code): τ = 0.2, ratios 0.3/0.4/0.3, LoRA r = 8 with α = 1, M = 16, context-aware, refocus. */
export const reconfigure = (o: Partial<Omit<Reconfigure, "_tag">> = {}): Reconfigure => ({
  _tag: "Reconfigure",
  budget: o.budget ?? 0.2,
  ratios: o.ratios ?? { matrices: 0.3, vectors: 0.4, special: 0.3 },
  candidates: o.candidates ?? dafCandidates,
  module: o.module ?? lowRank({ rank: 8, alpha: 1, scaling: "alpha" }),
  batches: o.batches ?? 16,
  analysis: o.analysis ?? "context",
  ema: o.ema ?? null,
  retain: o.retain ?? "refocus",
  seed: o.seed ?? 0,
});

export const showWhen = (w: When): string => (w._tag === "Once" ? "once" : `every ${w.n} ${w.unit}`);

export const showAction = (a: Action): string => {
  switch (a._tag) {
    case "GradientEstimate":
      return `gradientEstimate(${a.batches} batches, seed ${a.seed})`;
    case "FeatureStatistics":
      return "featureStatistics(frozen features over the training set)";
    case "Reconfigure":
      return (
        `reconfigure(τ=${a.budget}, ratios ${categories.map((c) => a.ratios[c]).join("/")}, ${showTransform(a.module)} on ${showSelector(a.candidates.matrices)}, ` +
        `vectors ${showSelector(a.candidates.vectors)}, special ${showSelector(a.candidates.special)}, ${a.batches} batches, ${a.analysis} analysis${a.ema === null ? "" : `, EMA ${a.ema}`}, ${a.retain})`
      );
  }
};

export const showRule = (r: Rule): string => `${showWhen(r.when)}: ${showAction(r.action)}`;
