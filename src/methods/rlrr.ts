import { method, type Method, target } from "../dsl/method.js";
import { and, role } from "../dsl/selector.js";
import { full, rescale } from "../dsl/transform.js";

/**
 * RLRR (Dong et al. 2024; code zstarN70/RLRR), its weight part: W' = (1 + s_l s_rᵀ) ⊙ W on q, k,
 * v, proj, fc1, fc2 of every block (q, k, v separately, as the code), and b' = b + f on their
 * biases (a trainable copy of b is the same parameters). The code's SSF scale/shift after the
 * norms and the patch embedding is not expressible yet (it needs module-level transforms).
 */
export const rlrr = (o: { readonly init?: "kaiming" | "zeros" } = {}): Method =>
  method({
    targets: [
      target(role("q", "k", "v", "proj", "fc1", "fc2"), rescale({ init: o.init ?? "kaiming" })),
      target(and(role("qkv", "proj", "fc1", "fc2"), role("bias")), full),
    ],
  });
