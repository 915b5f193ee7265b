import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { placeBlocks } from "./placeBlocks.js";
import { matMulSwapped } from "./batchMatMul.js";

/*
 * Linear layers in timm's convention, y = x Wᵀ with W: [dout, din]. Their transposes are flags
 * where those are free and explicit on tfjs's own wasm matmul (see matMulSwapped).
 */

/** y = x Wᵀ for a trainable W, dx = dy W, with the weight gradient `weightGradient(dy, x, W)`. */
const linearWith = (weightGradient: (dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D) =>
  customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D>((x, w, save) => {
    save([x, w]);
    return {
      value: matMulSwapped(x, w, false, true),
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy, ws), weightGradient(dy, xs, ws)];
      },
    };
  });

/** y = x Wᵀ for a trainable W: dW = dyᵀ x. */
export const linear = linearWith((dy, x) => matMulSwapped(dy, x, true, false));

/**
 * y = x Wᵀ where only the row ranges `rows` of W depend on trained values (a method adapting q
 * and v of the fused qkv weight): dW is formed on those rows alone, zeros elsewhere, which skips
 * k's third of the weight-gradient product.
 */
export const rowsTrainedLinear = (rows: readonly (readonly [number, number])[]) =>
  linearWith((dy, x, w) =>
    placeBlocks(
      rows.map(([from, to]) => ({ range: [from, to] as const, value: matMulSwapped(tf.slice(dy, [0, from], [-1, to - from]), x, true, false) })),
      w.shape[0],
      0,
      w.shape[1],
    ),
  );

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
