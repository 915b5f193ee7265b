import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { literalOf, struct, withDefault } from "../util/codecKit.js";
import type { Primitive } from "./primitive.js";

/**
 * RLRR's rescaling: ΔW = (s_l s_rᵀ) ⊙ W for the pretrained W, i.e. W' = (1 + s_l s_rᵀ) ⊙ W,
 * s_l: [dout], s_r: [din]. Init "kaiming" (both vectors U(±1/√len), the authors' code: not the
 * identity at init) or "zeros" (s_l = 0, s_r as kaiming: the identity, and still trainable).
 */
export interface Rescale {
  readonly _tag: "Rescale";
  readonly init: "kaiming" | "zeros";
}

export const rescale = (options: { readonly init?: "kaiming" | "zeros" } = {}): Rescale => ({ _tag: "Rescale", init: options.init ?? "kaiming" });

export const rescalePrimitive: Primitive<Rescale> = {
  tag: "Rescale",
  codec: struct("Rescale", { _tag: t.literal("Rescale"), init: withDefault(literalOf("init", ["kaiming", "zeros"]), "kaiming") }),
  composition: {
    kind: "additive",
    delta: (_, tensors, site, pretrained) => {
      const [m, n] = site.shape as [number, number];
      const outer = tf.mul(tf.reshape(tensors("scale_left"), [m, 1]), tf.reshape(tensors("scale_right"), [1, n]));
      return tf.mul(outer, pretrained());
    },
    // ΔW[i,j] = s_l[i]·s_r[j]·W[i,j], W pretrained.
    delta64: (_, values, dout, din, pretrained) => {
      const left = values("scale_left");
      const right = values("scale_right");
      const d = new Float64Array(dout * din);
      for (let i = 0; i < dout; i++) for (let j = 0; j < din; j++) d[i * din + j] = left[i]! * right[j]! * pretrained[i * din + j]!;
      return d;
    },
  },
  show: (r) => `rescale(${r.init} init)`,
  formula: (r) => `ΔW = (s_l s_rᵀ) ⊙ W, s_l ∈ ℝ^{dout}, s_r ∈ ℝ^{din} (${r.init === "zeros" ? "s_l = 0 at init" : "both kaiming-uniform at init"})`,
  appliesTo: (_, site) => site.matrix,
  count: (_, site) => site.shape[0]! + site.shape[1]!,
  tensors: (r, site) => {
    const [dout, din] = site.shape as [number, number];
    return [
      {
        path: "scale_left",
        role: "scale_left",
        shape: [dout],
        init: r.init === "zeros" ? { _tag: "Zeros" } : { _tag: "KaimingUniform", fanIn: dout },
        trainable: true,
      },
      { path: "scale_right", role: "scale_right", shape: [din], init: { _tag: "KaimingUniform", fanIn: din }, trainable: true },
    ];
  },
  startsAtIdentity: (r) => r.init === "zeros",
  arbitrary: fc.constantFrom("kaiming" as const, "zeros" as const).map((init): Rescale => ({ _tag: "Rescale", init })),
};
