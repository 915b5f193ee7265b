import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

const swapLast = (t: tf.Tensor3D): tf.Tensor3D => tf.transpose(t, [0, 2, 1]);

/** c = a b for [batch, m, k] × [batch, k, n], with explicit-transpose gradients (see linear.ts). */
export const batchMatMul = customOp<[tf.Tensor3D, tf.Tensor3D], tf.Tensor3D>((a, b, save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, saved) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      return [tf.matMul(dy, swapLast(bs)), tf.matMul(swapLast(as), dy)];
    },
  };
});
