import fc from "fast-check";
import * as t from "io-ts";
import { literalOf, struct, withDefault } from "../util/codecKit.js";
import { vitParams } from "../models/vitParams.js";
import type { Primitive } from "./primitive.js";

/**
 * SSF (Lian et al. 2022) on a module's output: y ← γ ⊙ y + β, γ, β ∈ ℝ^{dout}, placed on the
 * module's weight site (a linear, a q/k/v third, or a LayerNorm). Mergeable: W' = γ ⊙ W row-wise,
 * b' = γ ⊙ b + β. It acts after every other transform of the module and only as a target's
 * whole transform. Init "normal": γ ~ N(1, 0.02), β ~ N(0, 0.02) (SSF's and RLRR's code);
 * "identity": γ = 1, β = 0.
 */
export interface ScaleShift {
  readonly _tag: "ScaleShift";
  readonly init: "normal" | "identity";
}

export const scaleShift = (options: { readonly init?: "normal" | "identity" } = {}): ScaleShift => ({ _tag: "ScaleShift", init: options.init ?? "normal" });

export const scaleShiftPrimitive: Primitive<ScaleShift> = {
  tag: "ScaleShift",
  codec: struct("ScaleShift", { _tag: t.literal("ScaleShift"), init: withDefault(literalOf("init", ["normal", "identity"]), "normal") }),
  composition: { kind: "outputScale" },
  show: (s) => `scaleShift(${s.init} init)`,
  formula: (s) =>
    `y ← γ ⊙ y + β on the module's output (merged: W' = γ ⊙ W, b' = γ ⊙ b + β), γ, β ∈ ℝ^{dout}, ${s.init === "normal" ? "γ ~ N(1, 0.02), β ~ N(0, 0.02)" : "γ = 1, β = 0"} at init`,
  // A module's weight: a linear (or a q/k/v third) or a LayerNorm; its bias takes the shift.
  appliesTo: (_, site) => site.param.endsWith(".weight") && !site.roles.includes("cls") && !site.roles.includes("pos"),
  // β lands in the module's bias (b' = γ ⊙ b + β): a module without one (qkv_bias=False, CLIP's patch projection) cannot take it.
  check: (_, sites, config) => {
    const params = new Set(vitParams(config).map((p) => p.name));
    const bare = sites.find((site) => site.param.endsWith(".weight") && !params.has(site.param.replace(/\.weight$/, ".bias")));
    return bare ? `scaleShift on ${bare.name}: its module has no bias in this backbone for the shift β; select around it` : null;
  },
  count: (_, site) => 2 * site.shape[0]!,
  tensors: (s, site) => {
    const dout = site.shape[0]!;
    return [
      {
        path: "ssf_scale",
        role: "ssf_scale",
        shape: [dout],
        init: s.init === "normal" ? { _tag: "Normal", mean: 1, std: 0.02 } : { _tag: "Ones" },
        trainable: true,
      },
      {
        path: "ssf_shift",
        role: "ssf_shift",
        shape: [dout],
        init: s.init === "normal" ? { _tag: "Normal", mean: 0, std: 0.02 } : { _tag: "Zeros" },
        trainable: true,
      },
    ];
  },
  startsAtIdentity: (s) => s.init === "identity",
  arbitrary: fc.constantFrom("normal" as const, "identity" as const).map((init): ScaleShift => ({ _tag: "ScaleShift", init })),
};
