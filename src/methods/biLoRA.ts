import { method, type Method, target } from "../dsl/method.js";
import { role } from "../dsl/selector.js";
import { lowRank, quantized } from "../dsl/transform.js";

export interface BiLoRAOptions {
  readonly rank?: number;
  /** s in ΔW = s·Q(B) Q(A); the Bi- methods pick it per task from {0.01, 0.1, 1, 10, 100}. */
  readonly scale?: number;
}

/**
 * Bi-LoRA (Jie et al. 2023): LoRA on q and v whose A and B are each used at 1 bit
 * (standardise, sign at ±0.6745, de-standardise; straight-through gradient). The code's
 * dropout 0.1 on the branch input is not modelled.
 */
export const biLoRA = (o: BiLoRAOptions = {}): Method =>
  method({ targets: [target(role("q", "v"), quantized({ bits: 1 }, lowRank({ rank: o.rank ?? 8, alpha: o.scale ?? 1, scaling: "alpha" })))] });
