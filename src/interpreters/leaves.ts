import type { SpectralPositions, WeightTransform } from "../dsl/transform.js";

/** A primitive transform inside a (possibly nested) expression, with its parameter-path prefix. */
export type Leaf =
  | { readonly _tag: "LowRank"; readonly prefix: string; readonly rank: number; readonly scale: number }
  | { readonly _tag: "Full"; readonly prefix: string }
  | {
    readonly _tag: "Spectral"; readonly prefix: string; readonly coefficients: number; readonly scale: number;
    readonly positions: SpectralPositions; readonly init: "normal" | "zeros";
  };

/** Flatten `sum` trees: ΔW of an expression is the sum of its leaves' ΔW; `frozen` contributes nothing. */
export const leaves = (t: WeightTransform, prefix = ""): Leaf[] => {
  switch (t._tag) {
    case "LowRank":
      return [{ _tag: "LowRank", prefix, rank: t.rank, scale: t.scaling === "alpha/rank" ? t.alpha / t.rank : t.alpha }];
    case "Full": return [{ _tag: "Full", prefix }];
    case "Frozen": return [];
    case "Sum": return t.terms.flatMap((x, i) => leaves(x, `${prefix}sum.${i}.`));
    case "Spectral": return [{ _tag: "Spectral", prefix, coefficients: t.coefficients, scale: t.scale, positions: t.positions, init: t.init }];
  }
};

/** Whether the leaf starts at ΔW = 0 (FourierFT's N(0,1) spectrum does not). */
export const startsAtIdentity = (leaf: Leaf): boolean => leaf._tag !== "Spectral" || leaf.init === "zeros";

/** Whether x ΔWᵀ can be computed without forming ΔW (LoRA: (x Aᵀ) Bᵀ); others are materialised. */
export const hasFastPath = (leaf: Leaf): boolean => leaf._tag === "LowRank";
