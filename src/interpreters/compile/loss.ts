import * as tf from "@tensorflow/tfjs-core";
import { termNames } from "../../dsl/loss.js";
import { crossEntropy } from "../../ops/crossEntropy.js";
import type { Program } from "./program.js";

export interface LossParts {
  readonly total: tf.Scalar;
  /** Every term's unweighted value, cross-entropy first (call inside tf.tidy). */
  readonly terms: Readonly<Record<string, tf.Scalar>>;
}

/**
 * The training objective of a program: cross-entropy (label smoothing ε) plus Σ λ_i · L_i over
 * the method's loss terms. A term with λ = 0 is evaluated and reported but left out of the total,
 * so it cannot change training, not even by a NaN. `keep`: stochastic depth (see `vitForward`).
 */
export const programLoss = (program: Program, images: tf.Tensor4D, labels: tf.Tensor1D, smoothing = 0, keep?: tf.Tensor2D): LossParts => {
  const out = program.forward(images, keep);
  const ce = crossEntropy(out.logits, labels, smoothing);
  const terms: Record<string, tf.Scalar> = { ce };
  const names = termNames(program.method.losses);
  let total = ce;
  program.method.losses.forEach((term, i) => {
    const value = program.lossTerm(i, out, images);
    terms[names[i]!] = value;
    if (term.weight !== 0) total = tf.add(total, tf.mul(value, term.weight));
  });
  return { total, terms };
};
