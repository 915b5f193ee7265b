import * as tf from "@tensorflow/tfjs-core";
import { matMul2d } from "./batchMatMul.js";
import { gram } from "./gram.js";
import { centred } from "./similarity.js";

export interface Moments {
  /** [1, d] */
  readonly mean: tf.Tensor2D;
  /** [d, d], normalised by n − 1. */
  readonly covariance: tf.Tensor2D;
}

/** The batch's mean and unbiased covariance of features z: [n, d]. */
export const batchMoments = (z: tf.Tensor2D): Moments => ({
  mean: tf.mean(z, 0, true),
  covariance: tf.div(gram(tf.transpose(centred(z))), z.shape[0] - 1),
});

/**
 * RIFT's distance ‖Σ_z − s² QᵀΣ_p Q‖²_F with s² = tr Σ_z / tr Σ_p (closed form, reconstructed:
 * tr(QᵀΣQ) = tr Σ), plus RIFT*'s ‖μ_z − s Qᵀμ_p‖² when `withMean`; `normalised` divides the
 * first by (tr Σ_z)² and the second by tr Σ_z, making the term invariant to the features' scale.
 * The gradient flows through s.
 */
export const riftDistance = (tuned: Moments, pretrained: Moments, q: tf.Tensor2D, withMean: boolean, normalised: boolean): tf.Scalar => {
  const trace = (m: tf.Tensor2D) => tf.sum(tf.mul(m, tf.eye(m.shape[0])));
  const s2 = tf.div(trace(tuned.covariance), trace(pretrained.covariance));
  const rotated = matMul2d(matMul2d(tf.transpose(q), pretrained.covariance), q);
  const trZ = trace(tuned.covariance);
  const cov: tf.Scalar = tf.sum(tf.square(tf.sub(tuned.covariance, tf.mul(s2, rotated))));
  const covTerm = normalised ? tf.div(cov, tf.square(trZ)) : cov;
  if (!withMean) return covTerm as tf.Scalar;
  // (Qᵀμ_p)ᵀ = μ_pᵀ Q with the means as rows.
  const mean = tf.sum(tf.square(tf.sub(tuned.mean, tf.mul(tf.sqrt(s2), matMul2d(pretrained.mean, q)))));
  return tf.add(covTerm, normalised ? tf.div(mean, trZ) : mean) as tf.Scalar;
};
