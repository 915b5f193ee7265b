import { method, type Method, target } from "../dsl/method.js";
import { role } from "../dsl/selector.js";
import { scaleShift } from "../dsl/transform.js";

/**
 * SSF (Lian et al. 2022): scale and shift the output of every linear (qkv, proj, fc1, fc2),
 * every LayerNorm and the patch embedding; γ ~ N(1, 0.02), β ~ N(0, 0.02). Mergeable.
 */
export const ssf = (o: { readonly init?: "normal" | "identity" } = {}): Method =>
  method({ targets: [target(role("patch", "qkv", "proj", "fc1", "fc2", "norm"), scaleShift({ init: o.init ?? "normal" }))] });
