import * as tf from "@tensorflow/tfjs-core";

/**
 * NHWC images → one row per patch, [n·(h/p)·(w/p), c·p·p], flattened in (c, py, px) order so a
 * timm patch-embedding kernel [width, c, p, p] reshaped to [width, c·p·p] is a plain linear.
 */
export const patchify = (images: tf.Tensor4D, p: number): tf.Tensor2D => {
  const [n, h, w, c] = images.shape;
  const gh = h / p;
  const gw = w / p;
  const nchw = tf.transpose(images, [0, 3, 1, 2]);
  const grid = tf.reshape(nchw, [n, c, gh, p, gw, p]);
  return tf.reshape(tf.transpose(grid, [0, 2, 4, 1, 3, 5]), [n * gh * gw, c * p * p]);
};
