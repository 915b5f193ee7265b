import * as tf from "@tensorflow/tfjs-core";

/** LayerNorm over the last axis of [n, d] rows, with timm's biased variance. */
export const layerNorm = (x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
};
