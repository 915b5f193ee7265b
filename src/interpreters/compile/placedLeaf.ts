import * as tf from "@tensorflow/tfjs-core";
import { kindOf, type Leaf } from "../leaves.js";
import type { FoldedModule, Tensors } from "../../primitives/primitive.js";
import { adapterName } from "../adapterParams.js";
import type { ResolvedLeaf } from "../resolved.js";
import type { Placement } from "../resolve.js";
import { permuteMatrix } from "../../ops/permuteMatrix.js";
import { binarize } from "../../ops/binarize.js";
import { placeBlocks } from "../../ops/placeBlocks.js";
import { linear } from "../../ops/linear.js";
import type { PlacedProduct } from "../../ops/affine.js";

/** A leaf transform at one site, with the names of the adapter tensors it owns by role, and which of them train. */
export interface PlacedLeaf {
  readonly placement: Placement;
  readonly leaf: Leaf;
  readonly tensors: Readonly<Partial<Record<string, string>>>;
  readonly trainable: ReadonlySet<string>;
}

export type { FoldedModule } from "../../primitives/primitive.js";

export type Lookup = (name: string) => tf.Tensor;

/** The leaf's tensors by role as the forward pass uses them: trainable ones at 1 bit under `quantized`. */
const tensorsOf =
  (pl: PlacedLeaf, lookup: Lookup): Tensors =>
  (role) => {
    const name = pl.tensors[role];
    if (name === undefined) throw new Error(`${pl.leaf.primitive.tag} has no tensor ${role}`);
    const t = lookup(name);
    return pl.leaf.quantized && pl.trainable.has(role) ? binarize(t) : t;
  };

/** A resolved leaf with its tensors by role, for the forward pass. */
export const placedLeaf = (r: ResolvedLeaf): PlacedLeaf => ({
  placement: r.placement,
  leaf: r.leaf,
  tensors: Object.fromEntries(r.params.map((p) => [p.role, p.name])),
  trainable: new Set(r.params.filter((p) => p.trainable).map((p) => p.role)),
});

/** The value that replaces the site (a `full` leaf), or null for additive leaves. */
export const replacement = (pl: PlacedLeaf, lookup: Lookup): tf.Tensor | null => (kindOf(pl.leaf) === "replace" ? tensorsOf(pl, lookup)("value") : null);

/** ΔW of an additive leaf in the site's [dout, din] view, its wrappers applied innermost first. */
export const delta = (pl: PlacedLeaf, lookup: Lookup, pretrained: () => tf.Tensor2D): tf.Tensor2D | null => {
  const c = pl.leaf.primitive.composition;
  if (c.kind !== "additive") return null;
  const own = c.delta(pl.leaf.node, tensorsOf(pl, lookup), pl.placement.site, pretrained);
  const stateOf = (prefix: string, axis: "rows" | "cols") => lookup(adapterName(pl.placement, `${prefix}perm_${axis}`)) as tf.Tensor1D;
  return pl.leaf.wrappers.reduceRight((d, w) => permuteMatrix(d, stateOf(w.prefix, "rows"), stateOf(w.prefix, "cols")), own);
};

/** x ΔWᵀ as left rightᵀ without forming ΔW, placed at the leaf's rows of the output, where the leaf has such a path (LoRA: (s · x Aᵀ) Bᵀ). */
export const fastProduct = (pl: PlacedLeaf, lookup: Lookup, x: tf.Tensor2D): PlacedProduct | null => {
  const c = pl.leaf.primitive.composition;
  return c.kind === "additive" && c.fastFactors !== undefined
    ? { range: pl.placement.site.rows, ...c.fastFactors(pl.leaf.node, tensorsOf(pl, lookup), x) }
    : null;
};

/** A module's tensors as used, with its scale folded into up (the form both forward and merge use). */
export const foldedModule = (pl: PlacedLeaf, lookup: Lookup): FoldedModule => {
  const c = pl.leaf.primitive.composition;
  if (c.kind !== "module") throw new Error(`${pl.leaf.primitive.tag} is not a module`);
  return c.fold(pl.leaf.node, tensorsOf(pl, lookup), (role) => pl.tensors[role] !== undefined);
};

/** A module's contribution beside the MLP, from the pre-norm2 stream x. */
export const besideOutput = (m: FoldedModule, x: tf.Tensor2D): tf.Tensor2D => {
  const withBias = (y: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D => (b ? tf.add(y, b) : y);
  return withBias(linear(tf.relu(withBias(linear(x, m.down), m.downBias)), m.up), m.upBias);
};

/** SSF's γ and β as columns [total, 1] over the module's output rows (γ = 1, β = 0 outside the site's rows). */
export const scaleShiftColumns = (pl: PlacedLeaf, lookup: Lookup, total: number): { scale: tf.Tensor2D; shift: tf.Tensor2D } => {
  const column = (t: tf.Tensor) => tf.reshape(t, [-1, 1]) as tf.Tensor2D;
  const range = pl.placement.site.rows;
  const tensors = tensorsOf(pl, lookup);
  return {
    scale: tf.add(placeBlocks([{ range, value: column(tf.sub(tensors("ssf_scale"), 1)) }], total, 0, 1), 1),
    shift: placeBlocks([{ range, value: column(tensors("ssf_shift")) }], total, 0, 1),
  };
};
