import * as tf from "@tensorflow/tfjs-core";
import { crossEntropy } from "../../ops/crossEntropy.js";
import type { Program } from "./program.js";

export interface LossParts {
  readonly total: tf.Scalar;
  /** Every term's value, cross-entropy first (call inside tf.tidy). */
  readonly terms: Readonly<Record<string, tf.Scalar>>;
}

/** The training objective of a program: cross-entropy plus the method's weighted loss terms. */
export const programLoss = (program: Program, images: tf.Tensor4D, labels: tf.Tensor1D): LossParts => {
  const out = program.forward(images);
  const ce = crossEntropy(out.logits, labels);
  return { total: ce, terms: { ce } };
};
