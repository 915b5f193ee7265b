import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { nonNegative, struct, withDefault } from "../util/codecKit.js";
import { linearCka } from "../ops/similarity.js";
import { linearCka64 } from "./float64.js";
import type { LossTermKind } from "./lossTerm.js";

/** RSC: 1 − CKA_lin(Z, Z_pre) on the batch, Z_pre from a frozen pretrained forward pass. */
export interface Rsc {
  readonly _tag: "Rsc";
  readonly weight: number;
}

export const rscTerm = (o: { readonly weight?: number } = {}): Rsc => ({ _tag: "Rsc", weight: o.weight ?? 1 });

export const rscKind: LossTermKind<Rsc> = {
  tag: "Rsc",
  codec: struct("Rsc", { _tag: t.literal("Rsc"), weight: withDefault(nonNegative, 1) }),
  show: (l) => `rsc(λ ${l.weight})`,
  formula: (l) => `+ ${l.weight}·(1 − CKA_lin(Z, Z_pretrained)) on the batch's head-input features`,
  value: (_, __, out, images, ctx) => tf.sub(1, linearCka(out.preLogits, ctx.pretrained(images).preLogits)),
  value64: (_, __, { config, n, out, pretrained }) => 1 - linearCka64(out.preLogits, pretrained().preLogits, n, config.width, config.width),
  wholeBatch: true,
  arbitrary: fc.record({ _tag: fc.constant("Rsc" as const), weight: fc.constantFrom(0, 1) }),
};
