import fc from "fast-check";
import * as t from "io-ts";
import { nonNegative, struct, withDefault } from "../util/codecKit.js";
import type { LossTermKind } from "./lossTerm.js";

/** L2-SP: Σ ‖W' − W₀‖²_F over every adapted backbone tensor (a reset head's W₀ is its zero init: there it is weight decay); added modules have no W₀ and are left out. */
export interface L2sp {
  readonly _tag: "L2SP";
  readonly weight: number;
}

export const l2spTerm = (o: { readonly weight?: number } = {}): L2sp => ({ _tag: "L2SP", weight: o.weight ?? 0.01 });

export const l2spKind: LossTermKind<L2sp> = {
  tag: "L2SP",
  codec: struct("L2SP", { _tag: t.literal("L2SP"), weight: withDefault(nonNegative, 0.01) }),
  show: (l) => `l2sp(λ ${l.weight})`,
  formula: (l) => `+ ${l.weight}·Σ ‖W' − W₀‖²_F over the adapted backbone tensors`,
  value: (_, __, ___, ____, ctx) => ctx.drift(),
  value64: (_, __, ctx) => ctx.drift(),
  wholeBatch: false,
  arbitrary: fc.record({ _tag: fc.constant("L2SP" as const), weight: fc.constantFrom(0, 0.01) }),
};
