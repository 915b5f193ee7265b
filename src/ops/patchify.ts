import * as tf from "@tensorflow/tfjs-core";

/**
 * NHWC images → one row per patch, [n·(h/p)·(w/p), c·p·p], flattened in (c, py, px) order so a
 * timm patch-embedding kernel [width, c, p, p] reshaped to [width, c·p·p] is a plain linear.
 * Two rank-4 transposes rather than one rank-6: wasm's transpose above rank 4 is ~30× slower.
 */
export const patchify = (images: tf.Tensor4D, p: number): tf.Tensor2D => {
  const [n, h, w, c] = images.shape;
  const gh = h / p;
  const gw = w / p;
  // [n·gh, py, gw, px·c] → [n·gh, gw, py, px·c]: rows of patches in (py, px, c) order.
  const rows = tf.transpose(tf.reshape(images, [n * gh, p, gw, p * c]), [0, 2, 1, 3]);
  // [patch, py, px, c] → [patch, c, py, px].
  return tf.reshape(tf.transpose(tf.reshape(rows, [n * gh * gw, p, p, c]), [0, 3, 1, 2]), [n * gh * gw, c * p * p]);
};
