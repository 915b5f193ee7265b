import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

/**
 * A length-`size` vector that is zero except `values` at the distinct `indices`. Its gradient
 * gathers dy at those indices (gather's own gradient needs UnsortedSegmentSum, which wasm lacks).
 */
export const scatterFlat = (values: tf.Tensor1D, indices: tf.Tensor1D, size: number): tf.Tensor1D =>
  customOp<[tf.Tensor1D, tf.Tensor1D], tf.Tensor1D>((v, idx, save) => {
    // The indices are an input (saved), not captured: they may be gone by the time the gradient runs.
    save([idx]);
    return {
      value: tf.scatterND(tf.reshape(idx, [-1, 1]), v, [size]),
      gradFunc: (dy, [i]) => [tf.gather(dy, i!), tf.zerosLike(i!)],
    };
  })(values, indices);
