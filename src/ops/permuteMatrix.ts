import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { gather2Kernel, scatter2Kernel } from "./wasmPermute.js";

/** The inverse of an int32 order: inverse[order[i]] = i. */
const inverse = (order: tf.Tensor1D): tf.Tensor1D => tf.scatterND(tf.reshape(order, [-1, 1]), tf.range(0, order.size, 1, "int32"), [order.size]) as tf.Tensor1D;

const gather2 = (x: tf.Tensor2D, rows: tf.Tensor1D, cols: tf.Tensor1D): tf.Tensor2D => tf.gather(tf.gather(x, rows, 0), cols, 1);

/** From tfjs ops, for any backend. */
const composed = customOp<[tf.Tensor2D, tf.Tensor1D, tf.Tensor1D], tf.Tensor2D>((x, rows, cols, save) => {
  // The orders are inputs (saved), not captured: they may be gone by the time the gradient runs.
  save([rows, cols]);
  return {
    value: tf.tidy(() => gather2(x, inverse(rows), inverse(cols))),
    gradFunc: (dy, [r, c]) => [gather2(dy, r as tf.Tensor1D, c as tf.Tensor1D), tf.zerosLike(r!), tf.zerosLike(c!)],
  };
});

/** The same as one scatter and, for the gradient, one gather (kernels/permute.c; wasm's GatherV2 is slow here). */
const fused = customOp<[tf.Tensor2D, tf.Tensor1D, tf.Tensor1D], tf.Tensor2D>((x, rows, cols, save) => {
  save([rows, cols]);
  return {
    value: tf.engine().runKernel(scatter2Kernel, { x, rows, cols }) as tf.Tensor2D,
    gradFunc: (dy, [r, c]) => [tf.engine().runKernel(gather2Kernel, { x: dy, rows: r!, cols: c! }) as tf.Tensor2D, tf.zerosLike(r!), tf.zerosLike(c!)],
  };
});

/**
 * Y = Prᵀ·X·Pc, i.e. Y[rows[i], cols[j]] = X[i, j] (S²FT's T). Exact: values move, none are
 * combined. The gradient moves dY back, dX[i, j] = dY[rows[i], cols[j]] (gather's own
 * gradient needs UnsortedSegmentSum, which wasm lacks).
 */
export const permuteMatrix = (x: tf.Tensor2D, rows: tf.Tensor1D, cols: tf.Tensor1D): tf.Tensor2D =>
  (tf.getKernel(scatter2Kernel, tf.getBackend()) === undefined ? composed : fused)(x, rows, cols);
