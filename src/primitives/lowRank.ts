import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { intIn, literalOf, optional, positive, struct, withDefault } from "../util/codecKit.js";
import { matMul2d } from "../ops/batchMatMul.js";
import { constant } from "../ops/deviceScalars.js";
import { linear } from "../ops/linear.js";
import { sizeOf } from "../models/vitParams.js";
import type { Primitive } from "./primitive.js";

/** How LoRA's product is scaled: α/r (Hu et al.) or α alone (DAF and SPT use α = 1). */
export type LowRankScaling = "alpha/rank" | "alpha";

/** LoRA (Hu et al. 2021): ΔW = s · B A, A: [r, din] kaiming-uniform, B: [dout, r] zeros (identity at init). */
export interface LowRank {
  readonly _tag: "LowRank";
  readonly rank: number;
  readonly alpha: number;
  readonly scaling: LowRankScaling;
}

/** `alpha` defaults to the rank (s = 1 under α/r), here and in JSON: HF PEFT's `lora_alpha` default of 8 at r = 8. */
export const lowRank = (options: { readonly rank: number; readonly alpha?: number; readonly scaling?: LowRankScaling }): LowRank => ({
  _tag: "LowRank",
  rank: options.rank,
  alpha: options.alpha ?? options.rank,
  scaling: options.scaling ?? "alpha/rank",
});

/** The factor s in ΔW = s · B A. */
export const lowRankScale = (l: LowRank): number => (l.scaling === "alpha/rank" ? l.alpha / l.rank : l.alpha);

const fields = struct("LowRank", {
  _tag: t.literal("LowRank"),
  rank: intIn(1, 65536),
  alpha: optional(positive),
  scaling: withDefault(literalOf("scaling", ["alpha/rank", "alpha"]), "alpha/rank"),
});

export const lowRankPrimitive: Primitive<LowRank> = {
  tag: "LowRank",
  // As the constructor: `alpha` left out is the rank.
  codec: new t.Type<LowRank, t.OutputOf<typeof fields>>(
    "LowRank",
    (u): u is LowRank => fields.is(u) && typeof (u as { alpha?: unknown }).alpha === "number",
    (u, c) => {
      const r = fields.validate(u, c);
      return r._tag === "Left" ? r : t.success(lowRank(r.right));
    },
    (l) => fields.encode(l),
  ),
  composition: {
    kind: "additive",
    delta: (l, tensors) => tf.mul(matMul2d(tensors("lora_B") as tf.Tensor2D, tensors("lora_A") as tf.Tensor2D), lowRankScale(l)),
    // x ΔWᵀ = (s · x Aᵀ) Bᵀ: thin products instead of forming ΔW, s applied to the rank-r middle.
    fastFactors: (l, tensors, x) => ({
      left: tf.mul(linear(x, tensors("lora_A") as tf.Tensor2D), constant(lowRankScale(l))),
      right: tensors("lora_B") as tf.Tensor2D,
    }),
    delta64: (l, values, dout, din) => {
      // ΔW[o, i] = s · Σ_k B[o, k] A[k, i], s from the transform's own fields.
      const s = l.scaling === "alpha/rank" ? l.alpha / l.rank : l.alpha;
      const A = values("lora_A");
      const B = values("lora_B");
      const d = new Float64Array(dout * din);
      for (let o = 0; o < dout; o++) {
        for (let i = 0; i < din; i++) {
          let acc = 0;
          for (let k = 0; k < l.rank; k++) acc += B[o * l.rank + k]! * A[k * din + i]!;
          d[o * din + i] = s * acc;
        }
      }
      return d;
    },
  },
  show: (l) => `lowRank(r=${l.rank}, s=${l.scaling === "alpha/rank" ? `${l.alpha}/${l.rank}` : l.alpha})`,
  formula: (l) => `ΔW = ${l.scaling === "alpha/rank" ? `(${l.alpha}/${l.rank})` : `${l.alpha}`}·B A, A ∈ ℝ^{${l.rank}×din}, B ∈ ℝ^{dout×${l.rank}}`,
  appliesTo: (_, site) => site.matrix,
  // The rank is at most min(out, in) of every site (checked before its factors are allocated).
  check: (l, sites) => {
    for (const site of sites) {
      const limit = Math.min(site.shape[0]!, sizeOf(site.shape) / site.shape[0]!);
      if (l.rank > limit) return `rank ${l.rank} exceeds min(out, in) = ${limit} of ${site.name}`;
    }
    return null;
  },
  count: (l, site) => l.rank * (site.shape[0]! + site.shape[1]!),
  tensors: (l, site) => {
    const [dout, din] = site.shape as [number, number];
    return [
      { path: "lora_A", role: "lora_A", shape: [l.rank, din], init: { _tag: "KaimingUniform", fanIn: din }, trainable: true },
      { path: "lora_B", role: "lora_B", shape: [dout, l.rank], init: { _tag: "Zeros" }, trainable: true },
    ];
  },
  startsAtIdentity: () => true,
  layoutScale: lowRankScale,
  arbitrary: fc
    .record({ rank: fc.integer({ min: 1, max: 3 }), alpha: fc.constantFrom(1, 2, 8), scaling: fc.constantFrom("alpha/rank" as const, "alpha" as const) })
    .map((x): LowRank => ({ _tag: "LowRank", ...x })),
};
