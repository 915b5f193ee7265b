import { method, type Method, target } from "../dsl/method.js";
import { role } from "../dsl/selector.js";
import { type Role } from "../models/vitParams.js";
import { lowRank, type LowRankScaling } from "../dsl/transform.js";

export interface LoraOptions {
  readonly rank?: number;
  readonly alpha?: number;
  readonly scaling?: LowRankScaling;
  /** Which linears; q and v (the thirds of qkv) by default, as in Hu et al. and the five papers. */
  readonly roles?: readonly [Role, ...Role[]];
}

/** LoRA (Hu et al. 2021): ΔW = (α/r)·B A on the chosen linears, rank 8 by default. */
export const lora = (o: LoraOptions = {}): Method =>
  method({
    targets: [target(role(...(o.roles ?? ["q", "v"])), lowRank({ rank: o.rank ?? 8, alpha: o.alpha ?? o.rank ?? 8, scaling: o.scaling ?? "alpha/rank" }))],
  });
