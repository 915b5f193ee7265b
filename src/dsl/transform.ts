/**
 * Weight transforms: what happens to the weight at a selected site, as data.
 * Every transform has a denotation ΔW (W' = W + ΔW); interpreters give it meaning.
 * Matrices follow timm's layout: W is [dout, din] and a linear computes y = x Wᵀ + b.
 */

/** How LoRA's product is scaled: α/r (Hu et al.) or α alone (DAF and SPT use α = 1). */
export type LowRankScaling = "alpha/rank" | "alpha";

/**
 * Where a spectral transform's coefficients sit: `coefficients` distinct flat indices of the
 * [dout, din] spectrum drawn uniformly without replacement from `seed`, either shared by every
 * site of one shape (FourierFT's code) or drawn per site. The drawn indices are stored in the
 * adapter file, so a loaded adapter never depends on the generator.
 */
export type SpectralPositions =
  | { readonly _tag: "Uniform"; readonly seed: number; readonly share: "shape" | "site" }
  /**
   * HF PEFT's FourierFT: the first n entries of torch's CPU `randperm(dout·din)` from
   * `manual_seed(seed)` (its `random_loc_seed`, 777 by default), so the same for every matrix of
   * a shape — the positions a HF PEFT adapter file does not store but redraws on load.
   */
  | { readonly _tag: "TorchRandperm"; readonly seed: number }
  /**
   * S²FT's Eq. 7: drawn without replacement with p(u, v) ∝ |DFT2(T⁻¹ΔŴ)(u, v)|^γ from the
   * pre-estimate ΔŴ, by a `gradientEstimate` rule before training (uniform per site until then).
   */
  | { readonly _tag: "Weighted"; readonly gamma: number; readonly seed: number };

/**
 * A permutation of a matrix axis: the identity, a uniformly random one from a seed (drawn per
 * site), or S²FT's greedy nearest-neighbour tour (Alg. 1) over the rows or columns of the
 * pre-estimate ΔŴ, set by a `gradientEstimate` rule before training (the identity until then).
 */
export type PermutationInit =
  | { readonly _tag: "Identity" }
  | { readonly _tag: "Random"; readonly seed: number }
  | { readonly _tag: "Tour"; readonly seed: number };

export type WeightTransform =
  /** ΔW = s · B A, A: [r, din] kaiming-uniform, B: [dout, r] zeros (identity at init). */
  | { readonly _tag: "LowRank"; readonly rank: number; readonly alpha: number; readonly scaling: LowRankScaling }
  /** The site's own value becomes trainable (initialised from the pretrained value). */
  | { readonly _tag: "Full" }
  /** ΔW = 0: the identity of `sum`. */
  | { readonly _tag: "Frozen" }
  /** ΔW = Σ ΔW_i. */
  | { readonly _tag: "Sum"; readonly terms: readonly WeightTransform[] }
  /**
   * FourierFT's ΔW = α·Re(IDFT2(S)), IDFT normalised by 1/(dout·din); S is zero except at the
   * stored positions, whose values train. Init N(0,1) as both public implementations (not the
   * identity at init), or zeros.
   */
  | {
    readonly _tag: "Spectral"; readonly coefficients: number; readonly scale: number;
    readonly positions: SpectralPositions; readonly init: "normal" | "zeros";
  }
  /**
   * S²FT's T: ΔW = Prᵀ·ΔW̄·Pc, i.e. ΔW[πr[i], πc[j]] = ΔW̄[i, j] for the inner ΔW̄. The orders
   * are stored in the adapter file (int32). The inner expression must be additive (no `full`).
   */
  | { readonly _tag: "Permuted"; readonly rows: PermutationInit; readonly cols: PermutationInit; readonly inner: WeightTransform }
  /**
   * The Bi- methods' quantisation (Jie et al. 2023): every trainable tensor of the inner
   * expression (LoRA's A and B, a spectrum, a full copy) is used at 1 bit per entry — two
   * values per tensor — with a straight-through gradient.
   */
  | { readonly _tag: "Quantized"; readonly bits: 1; readonly inner: WeightTransform }
  /**
   * RLRR's rescaling: ΔW = (s_l s_rᵀ) ⊙ W for the pretrained W, i.e. W' = (1 + s_l s_rᵀ) ⊙ W,
   * s_l: [dout], s_r: [din]. Init "kaiming" (both vectors U(±1/√len), the authors' code: not the
   * identity at init) or "zeros" (s_l = 0, s_r as kaiming: the identity, and still trainable).
   */
  | { readonly _tag: "Rescale"; readonly init: "kaiming" | "zeros" }
  /**
   * SSF (Lian et al. 2022) on a module's output: y ← γ ⊙ y + β, γ, β ∈ ℝ^{dout}, placed on the
   * module's weight site (a linear, a q/k/v third, or a LayerNorm). Mergeable: W' = γ ⊙ W row-wise,
   * b' = γ ⊙ b + β. It acts after every other transform of the module and only as a target's
   * whole transform. Init "normal": γ ~ N(1, 0.02), β ~ N(0, 0.02) (SSF's and RLRR's code);
   * "identity": γ = 1, β = 0.
   */
  | { readonly _tag: "ScaleShift"; readonly init: "normal" | "identity" }
  /**
   * AdaptFormer's module (Chen et al. 2022): a bottleneck beside a block's MLP that reads the
   * residual stream before norm2 (as the code), x ← x + MLP(LN2(x)) + s·up(ReLU(down(x))).
   * down: [bottleneck, width] kaiming-uniform, up: [width, bottleneck] zeros (identity at init),
   * biases zeros when present (Bi-AdaptFormer's code has none). Placed on the MLP's entry site
   * (`blocks.i.mlp.fc1.weight`); not mergeable into weights — merge keeps it as a module.
   */
  | { readonly _tag: "ParallelAdapter"; readonly bottleneck: number; readonly scale: number; readonly bias: boolean };

export const lowRank = (options: {
  readonly rank: number;
  readonly alpha?: number;
  readonly scaling?: LowRankScaling;
}): WeightTransform => ({
  _tag: "LowRank",
  rank: options.rank,
  alpha: options.alpha ?? options.rank,
  scaling: options.scaling ?? "alpha/rank",
});
export const full: WeightTransform = { _tag: "Full" };
export const frozen: WeightTransform = { _tag: "Frozen" };
export const sum = (...terms: readonly WeightTransform[]): WeightTransform => ({ _tag: "Sum", terms });
export const spectral = (options: {
  readonly coefficients: number;
  readonly scale: number;
  readonly positions?: SpectralPositions;
  readonly init?: "normal" | "zeros";
}): WeightTransform => ({
  _tag: "Spectral",
  coefficients: options.coefficients,
  scale: options.scale,
  positions: options.positions ?? defaultSpectralPositions,
  init: options.init ?? "normal",
});

export const permuted = (order: { readonly rows: PermutationInit; readonly cols: PermutationInit }, inner: WeightTransform): WeightTransform =>
  ({ _tag: "Permuted", rows: order.rows, cols: order.cols, inner });

export const scaleShift = (options: { readonly init?: "normal" | "identity" } = {}): WeightTransform => ({ _tag: "ScaleShift", init: options.init ?? "normal" });
export const rescale = (options: { readonly init?: "kaiming" | "zeros" } = {}): WeightTransform => ({ _tag: "Rescale", init: options.init ?? "kaiming" });
export const parallelAdapter = (options: { readonly bottleneck: number; readonly scale?: number; readonly bias?: boolean }): WeightTransform =>
  ({ _tag: "ParallelAdapter", bottleneck: options.bottleneck, scale: options.scale ?? 0.1, bias: options.bias ?? true });
export const quantized = (options: { readonly bits: 1 }, inner: WeightTransform): WeightTransform => ({ _tag: "Quantized", bits: options.bits, inner });

/** FourierFT's reference code draws one set of positions per matrix shape from a fixed seed. */
export const defaultSpectralPositions: SpectralPositions = { _tag: "Uniform", seed: 2024, share: "shape" };

/** The factor s in ΔW = s · B A. */
export const lowRankScale = (t: { readonly rank: number; readonly alpha: number; readonly scaling: LowRankScaling }): number =>
  t.scaling === "alpha/rank" ? t.alpha / t.rank : t.alpha;

const showPermutation = (p: PermutationInit): string => (p._tag === "Identity" ? "identity" : p._tag === "Random" ? `random(${p.seed})` : "tour");

export const showTransform = (t: WeightTransform): string => {
  switch (t._tag) {
    case "LowRank": return `lowRank(r=${t.rank}, s=${t.scaling === "alpha/rank" ? `${t.alpha}/${t.rank}` : t.alpha})`;
    case "Full": return "full";
    case "Frozen": return "frozen";
    case "Sum": return `sum(${t.terms.map(showTransform).join(", ")})`;
    case "Spectral": return `spectral(n=${t.coefficients}, α=${t.scale}${t.init === "zeros" ? ", zero init" : ""})`;
    case "Permuted": return `permuted(rows=${showPermutation(t.rows)}, cols=${showPermutation(t.cols)}, ${showTransform(t.inner)})`;
    case "Quantized": return `quantized(${t.bits} bit, ${showTransform(t.inner)})`;
    case "Rescale": return `rescale(${t.init} init)`;
    case "ScaleShift": return `scaleShift(${t.init} init)`;
    case "ParallelAdapter": return `parallelAdapter(bottleneck=${t.bottleneck}, s=${t.scale}${t.bias ? "" : ", no bias"})`;
  }
};
