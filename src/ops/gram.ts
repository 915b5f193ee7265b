import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

/** G = X Xᵀ for X: [n, d], with dX = (dG + dGᵀ) X (explicit transposes; see linear.ts). */
export const gram = customOp<[tf.Tensor2D], tf.Tensor2D>((x, save) => {
  save([x]);
  return {
    value: tf.matMul(x, tf.transpose(x)),
    gradFunc: (dy, saved) => tf.matMul(tf.add(dy, tf.transpose(dy)), saved[0] as tf.Tensor2D),
  };
});
