import { method, type Method } from "../dsl/method.js";
import { riftTerm, rscTerm } from "../dsl/loss.js";
import { featureStatistics, once } from "../dsl/rule.js";

export interface RiftOptions {
  /** λ (the paper ablates 0.1–1.0; 1.0 kept Sim highest). */
  readonly weight?: number;
  /** "identity" fixes Q = I (the paper's fixed-Q ablation). */
  readonly rotation?: "learned" | "identity";
  /** Divide by (tr Σ_z)² (default): without it the term rewards shrinking the features. */
  readonly normalised?: boolean;
}

/**
 * RIFT: keep the head-input features' covariance an orthogonal rotation (and rescaling) of the
 * pretrained one. The rule computes the pretrained statistics once before training.
 */
export const rift = (o: RiftOptions = {}): Method => method({ losses: [riftTerm({ ...o, mean: false })], rules: [once(featureStatistics())] });

/** RIFT*: RIFT plus the mean term ‖μ_z − s Qᵀμ_p‖². */
export const riftStar = (o: RiftOptions = {}): Method => method({ losses: [riftTerm({ ...o, mean: true })], rules: [once(featureStatistics())] });

/** RSC, RIFT's baseline: 1 − linear CKA to a frozen pretrained forward pass of the same batch. */
export const rsc = (o: { readonly weight?: number } = {}): Method => method({ losses: [rscTerm(o)] });
