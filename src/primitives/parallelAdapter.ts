import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { finite, intIn, struct, withDefault } from "../util/codecKit.js";
import type { Init, Primitive, TensorSpec } from "./primitive.js";

/**
 * AdaptFormer's module (Chen et al. 2022): a bottleneck beside a block's MLP that reads the
 * residual stream before norm2 (as the code), x ← x + MLP(LN2(x)) + s·up(ReLU(down(x))).
 * down: [bottleneck, width] kaiming-uniform, up: [width, bottleneck] zeros (identity at init),
 * biases zeros when present (Bi-AdaptFormer's code has none). Placed on the MLP's entry site
 * (`blocks.i.mlp.fc1.weight`); not mergeable into weights — merge keeps it as a module.
 */
export interface ParallelAdapter {
  readonly _tag: "ParallelAdapter";
  readonly bottleneck: number;
  readonly scale: number;
  readonly bias: boolean;
}

export const parallelAdapter = (options: { readonly bottleneck: number; readonly scale?: number; readonly bias?: boolean }): ParallelAdapter => ({
  _tag: "ParallelAdapter",
  bottleneck: options.bottleneck,
  scale: options.scale ?? 0.1,
  bias: options.bias ?? true,
});

export const parallelAdapterPrimitive: Primitive<ParallelAdapter> = {
  tag: "ParallelAdapter",
  codec: struct("ParallelAdapter", {
    _tag: t.literal("ParallelAdapter"),
    bottleneck: intIn(1, 65536),
    scale: withDefault(finite, 0.1),
    bias: withDefault(t.boolean, true),
  }),
  composition: {
    kind: "module",
    // s·(up ReLU(down x + b_d) + b_u) = (s·up) ReLU(down x + b_d) + s·b_u: the form both forward and merge use.
    fold: (a, tensors, has) => ({
      down: tensors("down_weight") as tf.Tensor2D,
      downBias: has("down_bias") ? (tensors("down_bias") as tf.Tensor1D) : null,
      up: tf.mul(tensors("up_weight"), a.scale) as tf.Tensor2D,
      upBias: has("up_bias") ? (tf.mul(tensors("up_bias"), a.scale) as tf.Tensor1D) : null,
    }),
    module64: (a, values) => ({
      bottleneck: a.bottleneck,
      scale: a.scale,
      down: values("down_weight")!,
      downBias: values("down_bias"),
      up: values("up_weight")!,
      upBias: values("up_bias"),
    }),
    width: (a) => a.bottleneck,
  },
  show: (a) => `parallelAdapter(bottleneck=${a.bottleneck}, s=${a.scale}${a.bias ? "" : ", no bias"})`,
  formula: (a) =>
    `x ← x + MLP(LN2(x)) + ${a.scale}·(up ReLU(down x${a.bias ? " + b_d" : ""})${a.bias ? " + b_u" : ""}), down ∈ ℝ^{${a.bottleneck}×width} kaiming, up ∈ ℝ^{width×${a.bottleneck}} zeros (a module: merge keeps it beside the MLP)`,
  // A module beside the MLP, placed on the MLP's entry site.
  appliesTo: (_, site) => site.param.endsWith(".mlp.fc1.weight") && site.rows === null,
  // down [b, width] and up [width, b] (+ their biases); the site is mlp.fc1.weight [hidden, width].
  count: (a, site) => 2 * a.bottleneck * site.shape[1]! + (a.bias ? a.bottleneck + site.shape[1]! : 0),
  tensors: (a, site) => {
    // Placed on mlp.fc1.weight [hidden, width]: the adapter maps width → bottleneck → width.
    const width = site.shape[1]!;
    const b = a.bottleneck;
    const tensor = (role: string, path: string, shape: number[], init: Init): TensorSpec => ({ path, role, shape, init, trainable: true });
    return [
      tensor("down_weight", "down_proj.weight", [b, width], { _tag: "KaimingUniform", fanIn: width }),
      ...(a.bias ? [tensor("down_bias", "down_proj.bias", [b], { _tag: "Zeros" })] : []),
      tensor("up_weight", "up_proj.weight", [width, b], { _tag: "Zeros" }),
      ...(a.bias ? [tensor("up_bias", "up_proj.bias", [width], { _tag: "Zeros" })] : []),
    ];
  },
  startsAtIdentity: () => true,
  layoutScale: (a) => a.scale,
  arbitrary: fc
    .record({ bottleneck: fc.integer({ min: 1, max: 3 }), scale: fc.constantFrom(0.1, 1, 2), bias: fc.boolean() })
    .map((x): ParallelAdapter => ({ _tag: "ParallelAdapter", ...x })),
};
