import type { PermutationInit, WeightTransform } from "../dsl/transform.js";
import { isPrimitive, primitiveOf, type PrimitiveTransform } from "../primitives/registry.js";
import type { AnyPrimitive } from "../primitives/primitive.js";

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
 * A primitive transform inside a (possibly nested) expression: its parameter-path prefix, the
 * wrappers around it (outermost first), the primitive itself and the primitive that gives it
 * meaning. Wrappers are linear, so they distribute over `sum`:
 * permuted(P, sum(a, b)) = sum(permuted(P, a), permuted(P, b)), with P stored once.
 */
export interface Leaf extends Context {
  readonly prefix: string;
  readonly node: PrimitiveTransform;
  readonly primitive: AnyPrimitive;
}

/** Flatten `sum` trees: ΔW of an expression is the sum of its leaves' ΔW; `frozen` contributes nothing. */
export const leaves = (t: WeightTransform, prefix = "", ctx: Context = top): Leaf[] => {
  if (isPrimitive(t)) return [{ prefix, ...ctx, node: t, primitive: primitiveOf(t) }];
  switch (t._tag) {
    case "Frozen":
      return [];
    case "Sum":
      return t.terms.flatMap((x, i) => leaves(x, `${prefix}sum.${i}.`, ctx));
    case "Permuted":
      return leaves(t.inner, `${prefix}permuted.`, { ...ctx, wrappers: [...ctx.wrappers, { _tag: "Permuted", prefix, rows: t.rows, cols: t.cols }] });
    case "Quantized":
      return leaves(t.inner, `${prefix}quantized.`, { ...ctx, quantized: true });
  }
};

/** Every wrapper node of an expression once (leaves under one node share its state). */
export const wrapperNodes = (t: WeightTransform, prefix = ""): Wrapper[] => {
  if (isPrimitive(t)) return [];
  switch (t._tag) {
    case "Sum":
      return t.terms.flatMap((x, i) => wrapperNodes(x, `${prefix}sum.${i}.`));
    case "Permuted":
      return [{ _tag: "Permuted", prefix, rows: t.rows, cols: t.cols }, ...wrapperNodes(t.inner, `${prefix}permuted.`)];
    case "Quantized":
      return wrapperNodes(t.inner, `${prefix}quantized.`);
    case "Frozen":
      return [];
  }
};

/** Whether the leaf starts at the pretrained weight (FourierFT's N(0,1) spectrum does not, nor a quantised full copy). */
export const startsAtIdentity = (leaf: Leaf): boolean => leaf.primitive.startsAtIdentity(leaf.node, leaf.quantized);

/** How the leaf composes with its site's weight: additive ΔW, replacement, output scale, or a module beside the MLP. */
export const kindOf = (leaf: Leaf): AnyPrimitive["composition"]["kind"] => leaf.primitive.composition.kind;

/** A module beside the weights (AdaptFormer's adapter): it has no ΔW and merges as a module. */
export const isModule = (leaf: Leaf): boolean => kindOf(leaf) === "module";

/** Whether x ΔWᵀ can be computed without forming ΔW (LoRA: (x Aᵀ) Bᵀ); others are materialised. */
export const hasFastPath = (leaf: Leaf): boolean => {
  const c = leaf.primitive.composition;
  return c.kind === "additive" && c.fastFactors !== undefined && leaf.wrappers.length === 0;
};
