import fc from "fast-check";
import * as t from "io-ts";
import { struct } from "../util/codecKit.js";
import { sizeOf } from "../models/vitParams.js";
import type { Primitive } from "./primitive.js";

/** Full fine-tuning of a site: its own value becomes trainable, initialised from the pretrained value. */
export interface Full {
  readonly _tag: "Full";
}

export const full: Full = { _tag: "Full" };

export const fullPrimitive: Primitive<Full> = {
  tag: "Full",
  codec: struct("Full", { _tag: t.literal("Full") }),
  composition: { kind: "replace" },
  show: () => "full",
  formula: () => "W' = V (V trainable, starts at W)",
  appliesTo: () => true,
  count: (_, site) => sizeOf(site.shape),
  // A full copy of a matrix decays like a weight; of a bias, a norm or a token, like nothing.
  tensors: (_, site) => [
    { path: "value", role: "value", shape: site.shape, init: { _tag: "CopyOfSite" }, trainable: true, decay: site.matrix && site.shape.length >= 2 },
  ],
  // W at 1 bit is not W.
  startsAtIdentity: (_, quantized) => !quantized,
  arbitrary: fc.constant(full),
};
