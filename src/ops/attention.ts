import * as tf from "@tensorflow/tfjs-core";
import { batchMatMul, batchMatMulBt } from "./batchMatMul.js";
import { constant } from "./deviceScalars.js";

/** The kernels a backend may register for `attention` and its gradient (the wasm backend does with the native addon and a BLAS). */
export const attentionKernel = "PeftAttention";
export const attentionGradKernel = "PeftAttentionGrad";

/**
 * Multi-head self-attention core on the fused projection: qkv [n·t, 3w] → output [n·t, w], and
 * the attention probabilities [n·heads, t, t] (rows: queries).
 * Columns of qkv are [q | k | v], each split into heads of w/heads columns (timm's layout).
 * One kernel where the backend has it; elsewhere composed of a head split, products and softmax.
 */
export const attention = (qkv: tf.Tensor2D, n: number, t: number, heads: number): { output: tf.Tensor2D; weights: tf.Tensor3D } => {
  if (tf.getKernel(attentionKernel, tf.getBackend()) !== undefined) {
    const [output, weights] = tf.engine().runKernel(attentionKernel, { qkv }, { n, t, heads }) as [tf.Tensor2D, tf.Tensor3D];
    return { output, weights };
  }
  const w = qkv.shape[1] / 3;
  const dh = w / heads;
  // [n, t, 3, heads, dh] → [3, n, heads, t, dh] for q, k and v together, then one split along the
  // leading axis (contiguous copies; its gradient is one concat, where slices' would be three
  // zero-padded copies summed). Two rank-4 transposes: tfjs-wasm's rank-5 one is ~500× slower.
  const parts = tf.transpose(tf.reshape(qkv, [n, t, 3, w]), [2, 0, 1, 3]);
  const split = tf.transpose(tf.reshape(parts, [3 * n, t, heads, dh]), [0, 2, 1, 3]);
  const [q0, k, v] = tf.split(tf.reshape(split, [3, n * heads, t, dh]), 3, 0).map((p) => tf.reshape(p, [n * heads, t, dh]) as tf.Tensor3D) as [
    tf.Tensor3D,
    tf.Tensor3D,
    tf.Tensor3D,
  ];
  const q = tf.mul(q0, constant(1 / Math.sqrt(dh))) as tf.Tensor3D;
  const weights = tf.softmax(batchMatMulBt(q, k)) as tf.Tensor3D;
  const out = batchMatMul(weights, v);
  return { output: tf.reshape(tf.transpose(tf.reshape(out, [n, heads, t, dh]), [0, 2, 1, 3]), [n * t, w]), weights };
};

// The probabilities' own gradient is used where a loss reads them (tfjs passes zeros otherwise).
tf.registerGradient({
  kernelName: attentionKernel,
  inputsToSave: ["qkv"],
  outputsToSave: [false, true],
  gradFunc: (dy, saved, attrs) => {
    const [dOut, dProbs] = dy as tf.Tensor[];
    const [qkv, probs] = saved;
    return {
      qkv: () =>
        tf
          .engine()
          .runKernel(attentionGradKernel, { qkv: qkv!, probs: probs!, dOut: dOut!, ...(dProbs ? { dProbs } : {}) }, attrs as tf.NamedAttrMap) as tf.Tensor,
    };
  },
});
