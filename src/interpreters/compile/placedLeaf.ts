import * as tf from "@tensorflow/tfjs-core";
import type { Leaf } from "../leaves.js";
import { adapterName, type AdapterParam } from "../adapterParams.js";
import type { Placement } from "../resolve.js";
import { permuteMatrix } from "../../ops/permuteMatrix.js";
import { binarize } from "../../ops/binarize.js";
import { placeBlocks } from "../../ops/placeBlocks.js";
import { linear } from "../../ops/linear.js";
import { matMul2d } from "../../ops/batchMatMul.js";
import { realIdft2 } from "../../ops/realIdft2.js";
import { scatterFlat } from "../../ops/scatterFlat.js";

/** A leaf transform at one site, with the names of the adapter tensors it owns by role. */
export interface PlacedLeaf {
  readonly placement: Placement;
  readonly leaf: Leaf;
  readonly tensors: Readonly<Partial<Record<AdapterParam["role"], string>>>;
}

export type Lookup = (name: string) => tf.Tensor;

/** A trainable tensor of the leaf as the forward pass uses it: at 1 bit under `quantized`. */
const get = <T extends tf.Tensor = tf.Tensor2D>(pl: PlacedLeaf, role: AdapterParam["role"], lookup: Lookup): T => {
  const t = lookup(pl.tensors[role]!);
  return (pl.leaf.quantized ? binarize(t) : t) as T;
};

/** Group adapter tensors by the leaf that owns them. */
export const placeLeaves = (params: readonly AdapterParam[]): PlacedLeaf[] => {
  const byLeaf = new Map<string, { placement: Placement; leaf: Leaf; tensors: Partial<Record<AdapterParam["role"], string>> }>();
  for (const p of params) {
    if (p.leaf === null) continue;
    const key = `${p.placement.site.name}/${p.placement.target}/${p.leaf.prefix}`;
    const entry = byLeaf.get(key) ?? { placement: p.placement, leaf: p.leaf, tensors: {} };
    entry.tensors[p.role] = p.name;
    byLeaf.set(key, entry);
  }
  return [...byLeaf.values()];
};

/** The value that replaces the site (a `full` leaf), or null for additive leaves. */
export const replacement = (pl: PlacedLeaf, lookup: Lookup): tf.Tensor | null =>
  pl.leaf._tag === "Full" ? get(pl, "value", lookup) : null;

/** ΔW of an additive leaf in the site's [dout, din] view, its wrappers applied innermost first. */
export const delta = (pl: PlacedLeaf, lookup: Lookup, pretrained: () => tf.Tensor2D): tf.Tensor2D | null => {
  const own = ownDelta(pl, lookup, pretrained);
  if (own === null) return null;
  const stateOf = (prefix: string, axis: "rows" | "cols") => lookup(adapterName(pl.placement, `${prefix}perm_${axis}`)) as tf.Tensor1D;
  return pl.leaf.wrappers.reduceRight((d, w) => permuteMatrix(d, stateOf(w.prefix, "rows"), stateOf(w.prefix, "cols")), own);
};

/** The leaf's own ΔW (LoRA: s · B A); `pretrained` is the site's pretrained W, for RLRR. */
const ownDelta = (pl: PlacedLeaf, lookup: Lookup, pretrained: () => tf.Tensor2D): tf.Tensor2D | null => {
  switch (pl.leaf._tag) {
    case "LowRank": return tf.mul(matMul2d(get(pl, "lora_B", lookup), get(pl, "lora_A", lookup)), pl.leaf.scale);
    case "Full":
    case "ScaleShift":
    case "ParallelAdapter": return null;
    case "Rescale": {
      const [m, n] = pl.placement.site.shape as [number, number];
      const outer = tf.mul(tf.reshape(get(pl, "scale_left", lookup), [m, 1]), tf.reshape(get(pl, "scale_right", lookup), [1, n]));
      return tf.mul(outer, pretrained());
    }
    case "Spectral": {
      const [m, n] = pl.placement.site.shape as [number, number];
      const spectrum = scatterFlat(get<tf.Tensor1D>(pl, "spectrum", lookup), lookup(pl.tensors.positions!) as tf.Tensor1D, m * n);
      return tf.mul(realIdft2(tf.reshape(spectrum, [m, n])), pl.leaf.scale);
    }
  }
};

/** x ΔWᵀ without forming ΔW, where the leaf has such a path (LoRA: s · (x Aᵀ) Bᵀ). */
export const fastApply = (pl: PlacedLeaf, lookup: Lookup, x: tf.Tensor2D): tf.Tensor2D | null => {
  switch (pl.leaf._tag) {
    case "LowRank": return tf.mul(linear(linear(x, get(pl, "lora_A", lookup)), get(pl, "lora_B", lookup)), pl.leaf.scale);
    case "Full":
    case "Rescale":
    case "ScaleShift":
    case "ParallelAdapter":
    case "Spectral": return null;
  }
};

/** A module's tensors as used, with its scale folded into up and its bias (null when it has none). */
export interface FoldedModule {
  readonly down: tf.Tensor2D;
  readonly downBias: tf.Tensor1D | null;
  readonly up: tf.Tensor2D;
  readonly upBias: tf.Tensor1D | null;
}

/** s·(up ReLU(down x + b_d) + b_u) = (s·up) ReLU(down x + b_d) + s·b_u: the form both forward and merge use. */
export const foldedModule = (pl: PlacedLeaf, lookup: Lookup): FoldedModule => {
  if (pl.leaf._tag !== "ParallelAdapter") throw new Error(`${pl.leaf._tag} is not a module`);
  const s = pl.leaf.scale;
  return {
    down: get(pl, "down_weight", lookup),
    downBias: pl.tensors.down_bias ? get<tf.Tensor1D>(pl, "down_bias", lookup) : null,
    up: tf.mul(get(pl, "up_weight", lookup), s),
    upBias: pl.tensors.up_bias ? tf.mul(get<tf.Tensor1D>(pl, "up_bias", lookup), s) : null,
  };
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
  return {
    scale: tf.add(placeBlocks([{ range, value: column(tf.sub(get(pl, "ssf_scale", lookup), 1)) }], total, 0, 1), 1),
    shift: placeBlocks([{ range, value: column(get(pl, "ssf_shift", lookup)) }], total, 0, 1),
  };
};
