import type { Site } from "../models/vitParams.js";
import { sizeOf } from "../models/vitParams.js";
import type { Weights } from "../models/backbone.js";
import { rng, shuffled } from "../util/random.js";
import type { TensorData } from "../models/safetensors.js";
import { leaves, wrapperNodes, type Leaf, type Wrapper } from "./leaves.js";

export type { Init } from "../primitives/primitive.js";
import type { Init, TensorSpec } from "../primitives/primitive.js";
import type { Placement } from "./resolve.js";
import { torchRandperm } from "../util/torchRandperm.js";

/** One tensor a placed transform owns. */
export interface AdapterParam {
  /** `${site}/${target}/${path}`, e.g. `blocks.0.attn.qkv.weight[q]/0/lora_A`. */
  readonly name: string;
  readonly placement: Placement;
  /** The leaf that owns the tensor; null for a wrapper node's state (a permutation). */
  readonly leaf: Leaf | null;
  /** What the tensor is to its owner (`lora_A`, `perm_rows`…). */
  readonly role: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** False for state that defines ΔW but is not optimised (spectral positions, stored as int32). */
  readonly trainable: boolean;
  /** Whether AdamW's weight decay applies. */
  readonly decay: boolean;
}

export const adapterName = (p: Placement, path: string): string => `${p.site.name}/${p.target}/${path}`;

/** A leaf's tensors at its placement, named under the leaf's prefix. */
const leafParams = (p: Placement, leaf: Leaf): AdapterParam[] =>
  leaf.primitive.tensors(leaf.node, p.site).map((spec: TensorSpec): AdapterParam => ({
    name: adapterName(p, `${leaf.prefix}${spec.path}`),
    placement: p,
    leaf,
    role: spec.role,
    shape: spec.shape,
    init: spec.init,
    trainable: spec.trainable,
    decay: spec.decay ?? spec.shape.length >= 2,
  }));

/** A permutation node's state: the row and column orders, int32, not trained. */
const wrapperParams = (p: Placement, w: Wrapper): AdapterParam[] => {
  const [dout, din] = p.site.shape as [number, number];
  return (["rows", "cols"] as const).map((axis): AdapterParam => {
    const name = adapterName(p, `${w.prefix}perm_${axis}`);
    return {
      name,
      placement: p,
      leaf: null,
      role: `perm_${axis}`,
      shape: [axis === "rows" ? dout : din],
      trainable: false,
      decay: false,
      init: { _tag: "Order", size: axis === "rows" ? dout : din, order: w[axis], label: name },
    };
  });
};

/** A placement's tensors: its wrapper nodes' state, then each leaf's own (the adapter file's order). */
export const placementParams = (
  p: Placement,
): { readonly wrappers: AdapterParam[]; readonly leaves: { readonly leaf: Leaf; readonly params: AdapterParam[] }[] } => ({
  wrappers: wrapperNodes(p.transform).flatMap((w) => wrapperParams(p, w)),
  leaves: leaves(p.transform).map((leaf) => ({ leaf, params: leafParams(p, leaf) })),
});

/** The pretrained values of a site (rows of its parameter, flattened row-major). */
export const siteValues = (site: Site, weights: Weights): Float32Array => {
  const param = weights.get(site.param)!;
  if (site.rows === null) return param.data;
  const rowSize = sizeOf(param.shape.slice(1));
  return param.data.subarray(site.rows[0] * rowSize, site.rows[1] * rowSize);
};

/** Floyd's sampling: `count` distinct integers below `size`, uniformly, in ascending order. */
const distinctIndices = (count: number, size: number, r: ReturnType<typeof rng>): Int32Array => {
  const chosen = new Set<number>();
  for (let j = size - count; j < size; j++) {
    const t = Math.floor(r.uniform() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from(chosen).sort();
};

export type AdapterValue = TensorData;

/** Initial values, each drawn from its own stream (seed, name): independent of order. */
export const initialValue = (p: AdapterParam, weights: Weights, seed: number): AdapterValue => {
  const n = sizeOf(p.shape);
  switch (p.init._tag) {
    case "Zeros":
      return new Float32Array(n);
    case "CopyOfSite":
      return siteValues(p.placement.site, weights).slice();
    case "KaimingUniform": {
      const r = rng(seed, p.name);
      const bound = 1 / Math.sqrt(p.init.fanIn);
      return Float32Array.from({ length: n }, () => (2 * r.uniform() - 1) * bound);
    }
    case "Normal": {
      const r = rng(seed, p.name);
      const { mean, std } = p.init;
      return Float32Array.from({ length: n }, () => mean + std * r.normal());
    }
    case "Ones":
      return new Float32Array(n).fill(1);
    // Positions come from their own seed, not the run's: FourierFT fixes them independently of training.
    case "DistinctIndices":
      return distinctIndices(p.init.count, p.init.size, rng(p.init.seed, p.init.label));
    case "TorchRandperm":
      return torchRandperm(p.init.size, p.init.seed, p.init.count).slice();
    case "Order": {
      const identity = Int32Array.from({ length: p.init.size }, (_, i) => i);
      return p.init.order._tag !== "Random" ? identity : Int32Array.from(shuffled([...identity], rng(p.init.order.seed, p.init.label)));
    }
  }
};
