import { method, type Method, target } from "../dsl/method.js";
import { and, role } from "../dsl/selector.js";
import { full, rescale, scaleShift } from "../dsl/transform.js";

/**
 * RLRR (Dong et al. 2024; code zstarN70/RLRR): W' = (1 + s_l s_rᵀ) ⊙ W on q, k, v, proj, fc1, fc2
 * of every block (q, k, v separately, as the code), b' = b + f on their biases (a trainable copy
 * of b is the same parameters), and SSF scale/shift after norm1, norm2, the final norm and the
 * patch embedding, as the code. Init "kaiming" is the code's; "zeros" starts at the identity.
 */
export const rlrr = (o: { readonly init?: "kaiming" | "zeros" } = {}): Method =>
  method({
    targets: [
      target(role("q", "k", "v", "proj", "fc1", "fc2"), rescale({ init: o.init ?? "kaiming" })),
      target(and(role("qkv", "proj", "fc1", "fc2"), role("bias")), full),
      target(role("norm", "patch"), scaleShift({ init: o.init === "zeros" ? "identity" : "normal" })),
    ],
  });
