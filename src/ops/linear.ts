import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

/*
 * Linear layers in timm's convention, y = x Wᵀ with W: [dout, din], and gradients that use
 * explicit transposes: the wasm backend runs transpose-flag matmuls ~10× slower than plain
 * 2-D ones, and tfjs's built-in matMul gradient uses those flags.
 */

/** y = x Wᵀ for a trainable W: dx = dy W, dW = dyᵀ x. */
export const linear = customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D>((x, w, save) => {
  save([x, w]);
  return {
    value: tf.matMul(x, tf.transpose(w)),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy, ws), tf.matMul(tf.transpose(dy), xs)];
    },
  };
});

/** A frozen weight: its transpose is computed once, and no weight gradient is ever formed. */
export interface FrozenLinear {
  readonly apply: (x: tf.Tensor2D) => tf.Tensor2D;
  readonly dispose: () => void;
}

export const frozenLinear = (w: tf.Tensor2D): FrozenLinear => {
  const wt = tf.keep(tf.transpose(w));
  const apply = customOp<[tf.Tensor2D], tf.Tensor2D>((x) => ({
    value: tf.matMul(x, wt),
    gradFunc: (dy) => tf.matMul(dy, w),
  }));
  return { apply, dispose: () => wt.dispose() };
};
