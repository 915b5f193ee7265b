import type * as tf from "@tensorflow/tfjs-core";
import type * as t from "io-ts";
import type fc from "fast-check";
import type { Site } from "../models/vitParams.js";
import type { VitConfig } from "../models/vitConfig.js";

/** How an adapter tensor starts. */
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
  | {
      readonly _tag: "Order";
      readonly size: number;
      readonly order: { readonly _tag: "Identity" | "Tour" } | { readonly _tag: "Random"; readonly seed: number };
      readonly label: string;
    };

/** One tensor a primitive owns at a site. */
export interface TensorSpec {
  /** Its name below the leaf's path in the adapter file (`lora_A`, `down_proj.weight`). */
  readonly path: string;
  /** What it is to the primitive; `delta` and the adapter file's layout read it by this name. */
  readonly role: string;
  readonly shape: readonly number[];
  readonly init: Init;
  /** False for state that defines ΔW but is not optimised (spectral positions, stored as int32). */
  readonly trainable: boolean;
  /**
   * Whether AdamW's weight decay applies; by default, as timm's rule, a tensor of rank ≥ 2 (linear
   * weights, LoRA factors), never a vector — biases, norms, SSF's γ (which would be pulled to 0,
   * not to 1), spectra, scales — nor the cls token and position embedding (ViT's no_weight_decay).
   */
  readonly decay?: boolean;
}

/** A primitive's tensors by role, as the forward pass uses them (at 1 bit under `quantized`). */
export type Tensors = (role: string) => tf.Tensor;
/** The same as host values, for the float64 reference. */
export type Values = (role: string) => ArrayLike<number>;

/** A module beside the MLP as used: its scale folded into up; biases null when it has none. */
export interface FoldedModule {
  readonly down: tf.Tensor2D;
  readonly downBias: tf.Tensor1D | null;
  readonly up: tf.Tensor2D;
  readonly upBias: tf.Tensor1D | null;
}

/** The same module in float64 for the reference interpreter. */
export interface Module64 {
  readonly bottleneck: number;
  readonly scale: number;
  readonly down: ArrayLike<number>;
  readonly downBias: ArrayLike<number> | null;
  readonly up: ArrayLike<number>;
  readonly upBias: ArrayLike<number> | null;
}

/**
 * How a primitive composes with its site's weight. Additive ones give ΔW (W' = W + ΔW) twice, in
 * tfjs and in float64, written independently from the primitive's own fields, with an optional
 * fast path x ΔWᵀ = left rightᵀ that never forms ΔW (without one the weight is materialised, and `describe`
 * says so). The other kinds have one primitive each and their meaning lives in the interpreters:
 * `replace` (the tensor `value` becomes the site), `outputScale` (γ `ssf_scale` and β `ssf_shift`
 * on the module's output, after every other transform), `module` (beside a block's MLP).
 */
export type Composition<T> =
  | {
      readonly kind: "additive";
      /** ΔW [dout, din] in the site's view; `pretrained` is the site's W (RLRR reads it). */
      readonly delta: (t: T, tensors: Tensors, site: Site, pretrained: () => tf.Tensor2D) => tf.Tensor2D;
      /** x ΔWᵀ as left rightᵀ ([n, r] × [dout, r]ᵀ) without forming ΔW, for a thin r. */
      readonly fastFactors?: (t: T, tensors: Tensors, x: tf.Tensor2D) => { readonly left: tf.Tensor2D; readonly right: tf.Tensor2D };
      readonly delta64: (t: T, values: Values, dout: number, din: number, pretrained: ArrayLike<number>) => Float64Array;
    }
  | { readonly kind: "replace" }
  | { readonly kind: "outputScale" }
  | {
      readonly kind: "module";
      readonly fold: (t: T, tensors: Tensors, has: (role: string) => boolean) => FoldedModule;
      readonly module64: (t: T, values: (role: string) => ArrayLike<number> | null) => Module64;
      /** Its width in a merged block's adapter (the bottleneck). */
      readonly width: (t: T) => number;
    };

/**
 * Everything one weight transform means, in one place: its data (codec), how it composes, where
 * it applies, its tensors, its count, its ΔW in tfjs and float64, its formula, and its law generator.
 * The library's own live in the registry (`primitives`); a user's comes from `customPrimitive`.
 */
export interface Primitive<T extends { readonly _tag: string }> {
  readonly tag: T["_tag"];
  /** Decodes (with defaults) and encodes the transform's JSON. */
  readonly codec: t.Type<T, unknown>;
  readonly composition: Composition<T>;
  /** Short form: `lowRank(r=8, s=16/8)`. */
  readonly show: (t: T) => string;
  /** ΔW as math, for `describe`. */
  readonly formula: (t: T) => string;
  /** Whether it has a meaning on a site (a low-rank update needs a matrix). */
  readonly appliesTo: (t: T, site: Site) => boolean;
  /** A reason it cannot be placed on these sites of this backbone (checked before anything is allocated), or null. */
  readonly check?: (t: T, sites: readonly Site[], config: VitConfig) => string | null;
  /** Trainable scalars at a site, in closed form. */
  readonly count: (t: T, site: Site) => number;
  /** Its tensors at a site, in the adapter file's order. */
  readonly tensors: (t: T, site: Site) => readonly TensorSpec[];
  /** Whether it starts at the pretrained model (`quantized`: under a 1-bit quantiser). */
  readonly startsAtIdentity: (t: T, quantized: boolean) => boolean;
  /** State a gradient pre-estimate must set before training (S²FT's weighted positions). */
  readonly needsEstimate?: (t: T) => boolean;
  /** The scalar the adapter file's layout records beside its tensors (LoRA's s, the spectral α, the module's s). */
  readonly layoutScale?: (t: T) => number;
  /** Random instances for the laws, small enough for the laws' small ViTs. */
  readonly arbitrary: fc.Arbitrary<T>;
}

/** Any primitive, whatever its transform's type. */
export type AnyPrimitive = Primitive<any>;
