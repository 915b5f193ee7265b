import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

/** The code level of the 1-bit quantiser: Φ⁻¹(0.75), the median |z| of a standard normal. */
export const binaryLevel = 0.6745;
/** Added to the std before standardising (the Bi- methods' code). */
export const binaryEps = 1e-5;
/**
 * √x whose gradient is 0 at x = 0 instead of ∞: a constant tensor (LoRA's B = 0 at init) has
 * std 0, and 0·∞ would make every gradient NaN.
 */
const safeSqrt = customOp<[tf.Scalar], tf.Scalar>((x, save) => {
  const root = tf.sqrt(x);
  save([root]);
  return {
    value: root,
    gradFunc: (dy, [r]) => tf.where(tf.greater(r!, 0), tf.div(dy, tf.mul(r!, 2)), tf.zerosLike(dy)),
  };
});

/** ±binaryLevel by the sign of z (z ≥ 0 counts as positive, so there are exactly two levels); gradient passed straight through. */
export const steSign = customOp<[tf.Tensor], tf.Tensor>((z) => ({
  value: tf.where(tf.greaterEqual(z, 0), tf.fill(z.shape, binaryLevel), tf.fill(z.shape, -binaryLevel)),
  gradFunc: (dy) => dy,
}));

/**
 * The Bi- methods' 1-bit quantiser (Jie et al. 2023, code): standardise the whole tensor,
 * keep only the sign at ±0.6745, de-standardise. Two values per tensor; the sign has a
 * straight-through gradient and the mean and std are not detached. Std is the sample std (n − 1).
 */
export const binarize = (w: tf.Tensor): tf.Tensor => {
  const n = w.size;
  const mean = tf.mean(w);
  const centred = tf.sub(w, mean);
  const std = n > 1 ? safeSqrt(tf.div(tf.sum(tf.square(centred)), n - 1)) : tf.zerosLike(mean);
  const z = tf.div(centred, tf.add(std, binaryEps));
  return tf.add(tf.mul(steSign(z), std), mean);
};
