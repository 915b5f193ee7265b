import type { PermutationInit, SpectralPositions, WeightTransform } from "../dsl/transform.js";

/** A linear map applied to a leaf's ΔW by an enclosing node; `prefix` names the node's own state. */
export interface Wrapper {
  readonly _tag: "Permuted";
  readonly prefix: string;
  readonly rows: PermutationInit;
  readonly cols: PermutationInit;
}

/** What the enclosing nodes do to a leaf: wrappers act on its ΔW, quantisation on its tensors. */
export interface Context {
  readonly wrappers: readonly Wrapper[];
  /** Under a `quantized` node: every trainable tensor of the leaf is used at 1 bit. */
  readonly quantized: boolean;
}

const top: Context = { wrappers: [], quantized: false };

/**
 * A primitive transform inside a (possibly nested) expression: its parameter-path prefix and
 * the wrappers around it, outermost first. Wrappers are linear, so they distribute over `sum`:
 * permuted(P, sum(a, b)) = sum(permuted(P, a), permuted(P, b)), with P stored once.
 */
export type Leaf = { readonly prefix: string } & Context & (
  | { readonly _tag: "LowRank"; readonly rank: number; readonly scale: number }
  | { readonly _tag: "Full" }
  | { readonly _tag: "Rescale"; readonly init: "kaiming" | "zeros" }
  | { readonly _tag: "ScaleShift"; readonly init: "normal" | "identity" }
  | { readonly _tag: "ParallelAdapter"; readonly bottleneck: number; readonly scale: number; readonly bias: boolean }
  | {
    readonly _tag: "Spectral"; readonly coefficients: number; readonly scale: number;
    readonly positions: SpectralPositions; readonly init: "normal" | "zeros";
  });

/** Flatten `sum` trees: ΔW of an expression is the sum of its leaves' ΔW; `frozen` contributes nothing. */
export const leaves = (t: WeightTransform, prefix = "", ctx: Context = top): Leaf[] => {
  switch (t._tag) {
    case "LowRank":
      return [{ _tag: "LowRank", prefix, ...ctx, rank: t.rank, scale: t.scaling === "alpha/rank" ? t.alpha / t.rank : t.alpha }];
    case "Full": return [{ _tag: "Full", prefix, ...ctx }];
    case "Rescale": return [{ _tag: "Rescale", prefix, ...ctx, init: t.init }];
    case "ScaleShift": return [{ _tag: "ScaleShift", prefix, ...ctx, init: t.init }];
    case "ParallelAdapter": return [{ _tag: "ParallelAdapter", prefix, ...ctx, bottleneck: t.bottleneck, scale: t.scale, bias: t.bias }];
    case "Frozen": return [];
    case "Sum": return t.terms.flatMap((x, i) => leaves(x, `${prefix}sum.${i}.`, ctx));
    case "Spectral": return [{ _tag: "Spectral", prefix, ...ctx, coefficients: t.coefficients, scale: t.scale, positions: t.positions, init: t.init }];
    case "Permuted": return leaves(t.inner, `${prefix}permuted.`, { ...ctx, wrappers: [...ctx.wrappers, { _tag: "Permuted", prefix, rows: t.rows, cols: t.cols }] });
    case "Quantized": return leaves(t.inner, `${prefix}quantized.`, { ...ctx, quantized: true });
  }
};

/** Every wrapper node of an expression once (leaves under one node share its state). */
export const wrapperNodes = (t: WeightTransform, prefix = ""): Wrapper[] => {
  switch (t._tag) {
    case "Sum": return t.terms.flatMap((x, i) => wrapperNodes(x, `${prefix}sum.${i}.`));
    case "Permuted": return [{ _tag: "Permuted", prefix, rows: t.rows, cols: t.cols }, ...wrapperNodes(t.inner, `${prefix}permuted.`)];
    case "Quantized": return wrapperNodes(t.inner, `${prefix}quantized.`);
    default: return [];
  }
};

/**
 * Whether the leaf starts at the pretrained weight: FourierFT's N(0,1) spectrum does not, nor
 * does a quantised full copy (W at 1 bit is not W). Quantised zeros stay zero.
 */
export const startsAtIdentity = (leaf: Leaf): boolean =>
  leaf._tag === "Spectral" || leaf._tag === "Rescale" ? leaf.init === "zeros"
    : leaf._tag === "ScaleShift" ? leaf.init === "identity"
      : leaf._tag === "Full" ? !leaf.quantized : true;

/** A module beside the weights (AdaptFormer's adapter): it has no ΔW and merges as a module. */
export const isModule = (leaf: Leaf): leaf is Extract<Leaf, { _tag: "ParallelAdapter" }> => leaf._tag === "ParallelAdapter";

/** Whether x ΔWᵀ can be computed without forming ΔW (LoRA: (x Aᵀ) Bᵀ); others are materialised. */
export const hasFastPath = (leaf: Leaf): boolean => leaf._tag === "LowRank" && leaf.wrappers.length === 0;
