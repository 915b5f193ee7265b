import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

/**
 * A length-`size` vector that is zero except `values` at the distinct `indices`. Its gradient
 * gathers dy at those indices (gather's own gradient needs UnsortedSegmentSum, which wasm lacks).
 */
export const scatterFlat = (values: tf.Tensor1D, indices: tf.Tensor1D, size: number): tf.Tensor1D =>
  customOp<[tf.Tensor1D], tf.Tensor1D>((v) => ({
    value: tf.scatterND(tf.reshape(indices, [-1, 1]), v, [size]),
    gradFunc: (dy) => tf.gather(dy, indices),
  }))(values);
