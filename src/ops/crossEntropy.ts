import * as tf from "@tensorflow/tfjs-core";

/** log softmax along the last axis, stabilised by the row max (wasm has no LogSoftmax kernel). */
export const logSoftmax = (logits: tf.Tensor2D): tf.Tensor2D => {
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
};

/** Mean cross-entropy against integer labels, with optional label smoothing ε. */
export const crossEntropy = (logits: tf.Tensor2D, labels: tf.Tensor1D, smoothing = 0): tf.Scalar => {
  const k = logits.shape[1];
  const target = tf.add(tf.mul(tf.oneHot(labels, k), 1 - smoothing), smoothing / k);
  return tf.neg(tf.mean(tf.sum(tf.mul(target, logSoftmax(logits)), -1)));
};
