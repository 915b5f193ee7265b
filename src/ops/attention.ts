import * as tf from "@tensorflow/tfjs-core";
import { batchMatMul, batchMatMulBt } from "./batchMatMul.js";
import { constant } from "./deviceScalars.js";

/**
 * Multi-head self-attention core on the fused projection: qkv [n·t, 3w] → output [n·t, w], and
 * the attention probabilities [n·heads, t, t] (rows: queries).
 * Columns of qkv are [q | k | v], each split into heads of w/heads columns (timm's layout).
 */
export const attention = (qkv: tf.Tensor2D, n: number, t: number, heads: number): { output: tf.Tensor2D; weights: tf.Tensor3D } => {
  const w = qkv.shape[1] / 3;
  const dh = w / heads;
  // [n, t, 3·heads, dh] → [n, 3·heads, t, dh]: one rank-4 transpose for q, k and v together.
  const split = tf.transpose(tf.reshape(qkv, [n, t, 3 * heads, dh]), [0, 2, 1, 3]);
  const part = (i: number) => tf.reshape(tf.slice(split, [0, i * heads, 0, 0], [n, heads, t, dh]), [n * heads, t, dh]);
  const q = tf.mul(part(0), constant(1 / Math.sqrt(dh))) as tf.Tensor3D;
  const k = part(1) as tf.Tensor3D;
  const v = part(2) as tf.Tensor3D;
  const weights = tf.softmax(batchMatMulBt(q, k)) as tf.Tensor3D;
  const out = batchMatMul(weights, v);
  return { output: tf.reshape(tf.transpose(tf.reshape(out, [n, heads, t, dh]), [0, 2, 1, 3]), [n * t, w]), weights };
};
