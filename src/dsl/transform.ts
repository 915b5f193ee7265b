/**
 * Weight transforms: what happens to the weight at a selected site, as data. The primitives
 * (LoRA's low rank, a full copy, FourierFT's spectrum, RLRR's rescaling, SSF, AdaptFormer's
 * module) each live in their own file of `src/primitives`; here are the combinators that build
 * expressions from them. Every transform has a denotation ΔW (W' = W + ΔW); interpreters give
 * it meaning. Matrices follow timm's layout: W is [dout, din] and a linear computes y = x Wᵀ + b.
 */
import { isPrimitive, primitiveOf, type PrimitiveTransform } from "../primitives/registry.js";

export { lowRank, type LowRank, type LowRankScaling } from "../primitives/lowRank.js";
export { full, type Full } from "../primitives/full.js";
export { spectral, defaultSpectralPositions, type Spectral, type SpectralPositions } from "../primitives/spectral.js";
export { rescale, type Rescale } from "../primitives/rescale.js";
export { scaleShift, type ScaleShift } from "../primitives/scaleShift.js";
export { parallelAdapter, type ParallelAdapter } from "../primitives/parallelAdapter.js";
export type { PrimitiveTransform } from "../primitives/registry.js";

/**
 * A permutation of a matrix axis: the identity, a uniformly random one from a seed (drawn per
 * site), or S²FT's greedy nearest-neighbour tour (Alg. 1) over the rows or columns of the
 * pre-estimate ΔŴ, set by a `gradientEstimate` rule before training (the identity until then).
 */
export type PermutationInit =
  { readonly _tag: "Identity" } | { readonly _tag: "Random"; readonly seed: number } | { readonly _tag: "Tour"; readonly seed: number };

export type WeightTransform =
  | PrimitiveTransform
  /** ΔW = 0: the identity of `sum`. */
  | { readonly _tag: "Frozen" }
  /** ΔW = Σ ΔW_i. */
  | { readonly _tag: "Sum"; readonly terms: readonly WeightTransform[] }
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
  | { readonly _tag: "Quantized"; readonly bits: 1; readonly inner: WeightTransform };

export const frozen: WeightTransform = { _tag: "Frozen" };
export const sum = (...terms: readonly WeightTransform[]): WeightTransform => ({ _tag: "Sum", terms });
export const permuted = (order: { readonly rows: PermutationInit; readonly cols: PermutationInit }, inner: WeightTransform): WeightTransform => ({
  _tag: "Permuted",
  rows: order.rows,
  cols: order.cols,
  inner,
});
export const quantized = (options: { readonly bits: 1 }, inner: WeightTransform): WeightTransform => ({ _tag: "Quantized", bits: options.bits, inner });

const showPermutation = (p: PermutationInit): string => (p._tag === "Identity" ? "identity" : p._tag === "Random" ? `random(${p.seed})` : "tour");

export const showTransform = (t: WeightTransform): string => {
  if (isPrimitive(t)) return primitiveOf(t).show(t);
  switch (t._tag) {
    case "Frozen":
      return "frozen";
    case "Sum":
      return `sum(${t.terms.map(showTransform).join(", ")})`;
    case "Permuted":
      return `permuted(rows=${showPermutation(t.rows)}, cols=${showPermutation(t.cols)}, ${showTransform(t.inner)})`;
    case "Quantized":
      return `quantized(${t.bits} bit, ${showTransform(t.inner)})`;
  }
};
