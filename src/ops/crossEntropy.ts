import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { constant } from "./deviceScalars.js";

/** log softmax along the last axis, stabilised by the row max (wasm has no LogSoftmax kernel). */
export const logSoftmax = (logits: tf.Tensor2D): tf.Tensor2D => {
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
};

/**
 * −(1/n) Σ target · log softmax(logits), with its closed-form gradient (softmax − target)/n:
 * the rows of the target sum to 1. tfjs's own gradients of max, sum and mean make their ones and
 * zeros on the host, which on webgpu are uploads inside every step.
 */
const softmaxCrossEntropy = customOp<[tf.Tensor2D, tf.Tensor2D], tf.Scalar>((logits, target, save) => {
  const logProbabilities = logSoftmax(logits);
  save([logProbabilities, target]);
  return {
    value: tf.neg(tf.mean(tf.sum(tf.mul(target, logProbabilities), -1))),
    gradFunc: (dy, [logP, t]) => {
      const perImage = tf.div(dy, constant(logits.shape[0]));
      return [tf.mul(tf.sub(tf.exp(logP!), t!), perImage), tf.mul(tf.neg(logP!), perImage)];
    },
  };
});

/** Mean cross-entropy against integer labels, with optional label smoothing ε. */
export const crossEntropy = (logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing = 0): tf.Scalar => {
  const k = logits.shape[1];
  const target = smoothing === 0 ? tf.oneHot(labels, k) : tf.add(tf.mul(tf.oneHot(labels, k), constant(1 - smoothing)), constant(smoothing / k));
  return softmaxCrossEntropy(logits, target as tf.Tensor2D);
};
