import type { Site } from "../models/vitParams.js";
import { sizeOf } from "../models/vitParams.js";
import type { Weights } from "../models/backbone.js";
import { rng, shuffled } from "../util/random.js";
import type { TensorData } from "../models/safetensors.js";
import { leaves, wrapperNodes, type Leaf, type Wrapper } from "./leaves.js";
import type { PermutationInit } from "../dsl/transform.js";
import type { Placement } from "./resolve.js";
import { torchRandperm } from "../util/torchRandperm.js";

export type Init =
  | { readonly _tag: "Zeros" }
  /** U(−1/√fanIn, 1/√fanIn): PyTorch's kaiming_uniform_(a=√5), LoRA's A. */
  | { readonly _tag: "KaimingUniform"; readonly fanIn: number }
  /** The first `count` of torch's CPU randperm(size) from manual_seed(seed) (HF PEFT's FourierFT positions). */
  | { readonly _tag: "TorchRandperm"; readonly count: number; readonly size: number; readonly seed: number }
  /** The pretrained value of the site. */
  | { readonly _tag: "CopyOfSite" }
  /** N(mean, std²): FourierFT's spectral coefficients N(0, 1), SSF's γ ~ N(1, 0.02). */
  | { readonly _tag: "Normal"; readonly mean: number; readonly std: number }
  | { readonly _tag: "Ones" }
  /** `count` distinct flat indices below `size`, uniform without replacement, from (seed, label), ascending. */
  | { readonly _tag: "DistinctIndices"; readonly count: number; readonly size: number; readonly seed: number; readonly label: string }
  /** An order of 0..size−1: identity, or uniformly shuffled from (seed, label). */
  | { readonly _tag: "Order"; readonly size: number; readonly order: PermutationInit; readonly label: string };

/** One tensor a placed transform owns. */
export interface AdapterParam {
  /** `${site}/${target}/${path}`, e.g. `blocks.0.attn.qkv.weight[q]/0/lora_A`. */
  readonly name: string;
  readonly placement: Placement;
  /** The leaf that owns the tensor; null for a wrapper node's state (a permutation). */
  readonly leaf: Leaf | null;
  /** What the tensor is to its owner. */
  readonly role: "lora_A" | "lora_B" | "value" | "spectrum" | "positions" | "perm_rows" | "perm_cols" | "scale_left" | "scale_right" | "ssf_scale" | "ssf_shift"
    | "down_weight" | "down_bias" | "up_weight" | "up_bias";
  readonly shape: readonly number[];
  readonly init: Init;
  /** False for state that defines ΔW but is not optimised (spectral positions, stored as int32). */
  readonly trainable: boolean;
}

export const adapterName = (p: Placement, path: string): string => `${p.site.name}/${p.target}/${path}`;

const leafParams = (p: Placement, leaf: Leaf): AdapterParam[] => {
  const base = { placement: p, leaf, trainable: true };
  switch (leaf._tag) {
    case "LowRank": {
      const [dout, din] = p.site.shape as [number, number];
      return [
        { ...base, name: adapterName(p, `${leaf.prefix}lora_A`), role: "lora_A", shape: [leaf.rank, din], init: { _tag: "KaimingUniform", fanIn: din } },
        { ...base, name: adapterName(p, `${leaf.prefix}lora_B`), role: "lora_B", shape: [dout, leaf.rank], init: { _tag: "Zeros" } },
      ];
    }
    case "Full":
      return [{ ...base, name: adapterName(p, `${leaf.prefix}value`), role: "value", shape: p.site.shape, init: { _tag: "CopyOfSite" } }];
    case "ScaleShift": {
      const dout = p.site.shape[0]!;
      return [
        { ...base, name: adapterName(p, `${leaf.prefix}ssf_scale`), role: "ssf_scale", shape: [dout], init: leaf.init === "normal" ? { _tag: "Normal", mean: 1, std: 0.02 } : { _tag: "Ones" } },
        { ...base, name: adapterName(p, `${leaf.prefix}ssf_shift`), role: "ssf_shift", shape: [dout], init: leaf.init === "normal" ? { _tag: "Normal", mean: 0, std: 0.02 } : { _tag: "Zeros" } },
      ];
    }
    case "ParallelAdapter": {
      // Placed on mlp.fc1.weight [hidden, width]: the adapter maps width → bottleneck → width.
      const width = p.site.shape[1]!;
      const b = leaf.bottleneck;
      const param = (role: AdapterParam["role"], path: string, shape: number[], init: Init): AdapterParam => ({ ...base, name: adapterName(p, `${leaf.prefix}${path}`), role, shape, init });
      return [
        param("down_weight", "down_proj.weight", [b, width], { _tag: "KaimingUniform", fanIn: width }),
        ...(leaf.bias ? [param("down_bias", "down_proj.bias", [b], { _tag: "Zeros" })] : []),
        param("up_weight", "up_proj.weight", [width, b], { _tag: "Zeros" }),
        ...(leaf.bias ? [param("up_bias", "up_proj.bias", [width], { _tag: "Zeros" })] : []),
      ];
    }
    case "Rescale": {
      const [dout, din] = p.site.shape as [number, number];
      return [
        { ...base, name: adapterName(p, `${leaf.prefix}scale_left`), role: "scale_left", shape: [dout], init: leaf.init === "zeros" ? { _tag: "Zeros" } : { _tag: "KaimingUniform", fanIn: dout } },
        { ...base, name: adapterName(p, `${leaf.prefix}scale_right`), role: "scale_right", shape: [din], init: { _tag: "KaimingUniform", fanIn: din } },
      ];
    }
    case "Spectral": {
      const n = leaf.coefficients;
      const [dout, din] = p.site.shape as [number, number];
      // Weighted positions are drawn by the estimate rule; until then, uniform per site.
      const label = leaf.positions._tag === "Uniform" && leaf.positions.share === "shape" ? `spectral-positions:${dout}x${din}` : `spectral-positions:${p.site.name}`;
      return [
        { ...base, name: adapterName(p, `${leaf.prefix}spectrum`), role: "spectrum", shape: [n], init: leaf.init === "normal" ? { _tag: "Normal", mean: 0, std: 1 } : { _tag: "Zeros" } },
        {
          ...base, trainable: false, name: adapterName(p, `${leaf.prefix}positions`), role: "positions", shape: [n],
          init: leaf.positions._tag === "TorchRandperm" ? { _tag: "TorchRandperm", count: n, size: dout * din, seed: leaf.positions.seed }
            : { _tag: "DistinctIndices", count: n, size: dout * din, seed: leaf.positions.seed, label },
        },
      ];
    }
  }
};

/** A permutation node's state: the row and column orders, int32, not trained. */
const wrapperParams = (p: Placement, w: Wrapper): AdapterParam[] => {
  const [dout, din] = p.site.shape as [number, number];
  return (["rows", "cols"] as const).map((axis): AdapterParam => {
    const name = adapterName(p, `${w.prefix}perm_${axis}`);
    return {
      name, placement: p, leaf: null, role: `perm_${axis}`, shape: [axis === "rows" ? dout : din], trainable: false,
      init: { _tag: "Order", size: axis === "rows" ? dout : din, order: w[axis], label: name },
    };
  });
};

/** Every adapter tensor of a resolved method, in placement order. */
export const adapterParams = (placements: readonly Placement[]): AdapterParam[] =>
  placements.flatMap((p) => [
    ...wrapperNodes(p.transform).flatMap((w) => wrapperParams(p, w)),
    ...leaves(p.transform).flatMap((leaf) => leafParams(p, leaf)),
  ]);

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
    case "Zeros": return new Float32Array(n);
    case "CopyOfSite": return siteValues(p.placement.site, weights).slice();
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
    case "Ones": return new Float32Array(n).fill(1);
    // Positions come from their own seed, not the run's: FourierFT fixes them independently of training.
    case "DistinctIndices": return distinctIndices(p.init.count, p.init.size, rng(p.init.seed, p.init.label));
    case "TorchRandperm": return torchRandperm(p.init.size, p.init.seed, p.init.count).slice();
    case "Order": {
      const identity = Int32Array.from({ length: p.init.size }, (_, i) => i);
      return p.init.order._tag !== "Random" ? identity : Int32Array.from(shuffled([...identity], rng(p.init.order.seed, p.init.label)));
    }
  }
};
