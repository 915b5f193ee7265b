import type * as tf from "@tensorflow/tfjs-core";
import type * as t from "io-ts";
import type fc from "fast-check";
import type { VitOutput } from "../models/vit.js";
import type { VitConfig } from "../models/vitConfig.js";
import type { Forward64 } from "./float64.js";

/** A tensor a loss term owns (RIFT's rotation and pretrained statistics). Trained only if `trainable`. */
export interface LossParam {
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

export const lossParamName = (index: number, path: string): string => `losses[${index}].${path}`;

/** What a term reads besides the adapted forward pass (tfjs). */
export interface LossContext {
  readonly config: VitConfig;
  readonly lookup: (name: string) => tf.Tensor;
  /** The pretrained model on the same images (no gradient reaches anything). */
  readonly pretrained: (images: tf.Tensor4D) => VitOutput;
  /** ‖W' − W₀‖²_F of every adapted backbone tensor, summed. */
  readonly drift: () => tf.Scalar;
}

/** The same in float64, for the reference: the adapted forward, the pretrained one, the drift, the term's own tensors. */
export interface Context64 {
  readonly config: VitConfig;
  readonly n: number;
  readonly out: Forward64;
  readonly pretrained: () => Forward64;
  readonly drift: () => number;
  readonly value: (name: string) => ArrayLike<number>;
}

/**
 * Everything one loss term means: its codec, how it reads in a summary and as math, the tensors
 * it owns, its value in tfjs and in float64 (written independently: the laws compare them),
 * what it asks of the rest of the method, and its law generator.
 */
export interface LossTermKind<T extends { readonly _tag: string; readonly weight: number }> {
  readonly tag: T["_tag"];
  readonly codec: t.Type<T, unknown>;
  readonly show: (l: T) => string;
  /** The term added to cross-entropy, as math, for `describe`. */
  readonly formula: (l: T, config: VitConfig) => string;
  /** A reason it cannot apply to this backbone (checked before anything is allocated), or null. */
  readonly check?: (l: T, config: VitConfig) => { readonly field: string; readonly reason: string } | null;
  /** The tensors it owns, named with `lossParamName(index, …)`. */
  readonly params?: (l: T, index: number, config: VitConfig) => LossParam[];
  /** Free values trained only to shape the objective (RIFT's Q), counted apart from `trainable`. */
  readonly auxiliary?: (l: T, config: VitConfig) => number;
  /** Host reads it needs before a step (so the step reads nothing synchronously). */
  readonly readAhead?: (l: T, index: number, lookup: (name: string) => tf.Tensor) => Promise<void>;
  /** The unweighted value on a batch whose adapted forward is `out` (call inside tf.tidy). */
  readonly value: (l: T, index: number, out: VitOutput, images: tf.Tensor4D, ctx: LossContext) => tf.Scalar;
  readonly value64: (l: T, index: number, ctx: Context64) => number;
  /** It compares statistics of the whole batch, which micro-batches would change. */
  readonly wholeBatch: boolean;
  /** The `once` rule that sets its state, which the method must carry. */
  readonly needsRule?: { readonly action: "FeatureStatistics"; readonly missing: string };
  readonly arbitrary: fc.Arbitrary<T>;
}
