import type { PermutationInit, SpectralPositions, WeightTransform } from "../dsl/transform.js";

/** A linear map applied to a leaf's ΔW by an enclosing node; `prefix` names the node's own state. */
export interface Wrapper {
  readonly _tag: "Permuted";
  readonly prefix: string;
  readonly rows: PermutationInit;
  readonly cols: PermutationInit;
}

/**
 * A primitive transform inside a (possibly nested) expression: its parameter-path prefix and
 * the wrappers around it, outermost first. Wrappers are linear, so they distribute over `sum`:
 * permuted(P, sum(a, b)) = sum(permuted(P, a), permuted(P, b)), with P stored once.
 */
export type Leaf = { readonly prefix: string; readonly wrappers: readonly Wrapper[] } & (
  | { readonly _tag: "LowRank"; readonly rank: number; readonly scale: number }
  | { readonly _tag: "Full" }
  | {
    readonly _tag: "Spectral"; readonly coefficients: number; readonly scale: number;
    readonly positions: SpectralPositions; readonly init: "normal" | "zeros";
  });

/** Flatten `sum` trees: ΔW of an expression is the sum of its leaves' ΔW; `frozen` contributes nothing. */
export const leaves = (t: WeightTransform, prefix = "", wrappers: readonly Wrapper[] = []): Leaf[] => {
  switch (t._tag) {
    case "LowRank":
      return [{ _tag: "LowRank", prefix, wrappers, rank: t.rank, scale: t.scaling === "alpha/rank" ? t.alpha / t.rank : t.alpha }];
    case "Full": return [{ _tag: "Full", prefix, wrappers }];
    case "Frozen": return [];
    case "Sum": return t.terms.flatMap((x, i) => leaves(x, `${prefix}sum.${i}.`, wrappers));
    case "Spectral": return [{ _tag: "Spectral", prefix, wrappers, coefficients: t.coefficients, scale: t.scale, positions: t.positions, init: t.init }];
    case "Permuted": return leaves(t.inner, `${prefix}permuted.`, [...wrappers, { _tag: "Permuted", prefix, rows: t.rows, cols: t.cols }]);
  }
};

/** Every wrapper node of an expression once (leaves under one node share its state). */
export const wrapperNodes = (t: WeightTransform, prefix = ""): Wrapper[] => {
  switch (t._tag) {
    case "Sum": return t.terms.flatMap((x, i) => wrapperNodes(x, `${prefix}sum.${i}.`));
    case "Permuted": return [{ _tag: "Permuted", prefix, rows: t.rows, cols: t.cols }, ...wrapperNodes(t.inner, `${prefix}permuted.`)];
    default: return [];
  }
};

/** Whether the leaf starts at ΔW = 0 (FourierFT's N(0,1) spectrum does not). */
export const startsAtIdentity = (leaf: Leaf): boolean => leaf._tag !== "Spectral" || leaf.init === "zeros";

/** Whether x ΔWᵀ can be computed without forming ΔW (LoRA: (x Aᵀ) Bᵀ); others are materialised. */
export const hasFastPath = (leaf: Leaf): boolean => leaf._tag === "LowRank" && leaf.wrappers.length === 0;
