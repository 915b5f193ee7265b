import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { placeBlocks } from "./placeBlocks.js";
import { matMulSwapped } from "./batchMatMul.js";
import { affine, affineAvailable, weightGradient, type PlacedProduct, type TrainedRows } from "./affine.js";

/*
 * Linear layers in timm's convention, y = x Wᵀ with W: [dout, din]. Their transposes are flags
 * where those are free and explicit on tfjs's own wasm matmul (see matMulSwapped).
 */

/** y + b for a frozen b, where the backend has no affine kernel to add it in. */
const withFrozenBias = (y: tf.Tensor2D, bias: tf.Tensor | undefined): tf.Tensor2D => (bias === undefined ? y : tf.add(y, bias));

/**
 * y = x Wᵀ (+ b) for a trainable W whose rows `rows` train (null: all), dx = dy W, dW formed on
 * those rows alone (see weightGradient); b is a frozen bias, added in the product's kernel where
 * the backend has one (see affine).
 */
const trainedLinear =
  (rows: TrainedRows) =>
  (x: tf.Tensor2D, w: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor2D =>
    affineAvailable()
      ? affine(x, w, true, bias, [], rows)
      : customOp<[tf.Tensor2D, tf.Tensor2D], tf.Tensor2D>((x, w, save) => {
          save([x, w]);
          return {
            value: withFrozenBias(matMulSwapped(x, w, false, true), bias),
            gradFunc: (dy, saved) => {
              const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
              return [tf.matMul(dy, ws), weightGradient(dy, xs, rows, ws.shape[0])];
            },
          };
        })(x, w);

/** y = x Wᵀ for a trainable W: dW = dyᵀ x. */
export const linear = trainedLinear(null);

/** y = x Wᵀ where only the row ranges `rows` of W depend on trained values (a method adapting q and v of the fused qkv weight). */
export const rowsTrainedLinear = (rows: readonly (readonly [number, number])[]) => trainedLinear(rows);

/** A frozen weight: its transpose is computed once, and no weight gradient is ever formed. */
export interface FrozenLinear {
  /** x Wᵀ + b + Σ placed left rightᵀ (see affine), b frozen too; gradients for x and the placed factors. */
  readonly apply: (x: tf.Tensor2D, bias?: tf.Tensor, parts?: readonly PlacedProduct[]) => tf.Tensor2D;
  readonly dispose: () => void;
}

export const frozenLinear = (w: tf.Tensor2D): FrozenLinear => {
  const wt = tf.keep(tf.transpose(w));
  const product = customOp<[tf.Tensor2D], tf.Tensor2D>((x) => ({
    value: tf.matMul(x, wt),
    gradFunc: (dy) => tf.matMul(dy, w),
  }));
  const apply = (x: tf.Tensor2D, bias?: tf.Tensor, parts: readonly PlacedProduct[] = []): tf.Tensor2D => {
    if (affineAvailable()) return affine(x, wt, false, bias, parts);
    const placed = parts.map((p) => ({ range: p.range, value: linear(p.left, p.right) }));
    const y = placed.length === 0 ? product(x) : (tf.add(product(x), placeBlocks(placed, w.shape[0], 1, x.shape[0])) as tf.Tensor2D);
    return withFrozenBias(y, bias);
  };
  return { apply, dispose: () => wt.dispose() };
};
