import { method, type Method } from "../dsl/method.js";
import { l2spTerm } from "../dsl/loss.js";

/** L2-SP (Li et al. 2018): pull the adapted backbone tensors toward their pretrained values, λ·Σ‖W' − W₀‖²_F. */
export const l2sp = (o: { readonly weight?: number } = {}): Method => method({ losses: [l2spTerm(o)] });
