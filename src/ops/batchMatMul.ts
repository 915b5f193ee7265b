import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

const swapLast = (t: tf.Tensor): tf.Tensor => tf.transpose(t, t.rank === 2 ? [1, 0] : [0, 2, 1]);

/** c = a b with explicit-transpose gradients (see linear.ts): tfjs's own matMul gradient uses transpose flags, ~10× slower on wasm. */
const product = customOp<[tf.Tensor, tf.Tensor], tf.Tensor>((a, b, save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, saved) => {
      const [as, bs] = saved as [tf.Tensor, tf.Tensor];
      return [tf.matMul(dy, swapLast(bs)), tf.matMul(swapLast(as), dy)];
    },
  };
});

/** [batch, m, k] × [batch, k, n]. */
export const batchMatMul = product as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** [m, k] × [k, n]. */
export const matMul2d = product as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;
