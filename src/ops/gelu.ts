import * as tf from "@tensorflow/tfjs-core";

/** Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), timm's default. */
export const gelu = <T extends tf.Tensor>(x: T): T =>
  tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
