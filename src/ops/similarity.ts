import * as tf from "@tensorflow/tfjs-core";
import { gram } from "./gram.js";

/*
 * Similarity of two representations of one batch (rows = samples), as used by BAFT, RSC and the
 * Sim metric. Every function runs inside tf.tidy and is differentiable.
 */

/** Vectors along the last axis scaled to unit length (a zero vector stays zero: the squared norm is floored at 1e-24). */
export const rowNormalise = <T extends tf.Tensor>(x: T): T => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-24)));

/** ‖A Aᵀ − B Bᵀ‖²_F (BAFT's sum form; its gradient in A is 4 (AAᵀ − BBᵀ) A). */
export const gramDistance = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar => tf.sum(tf.square(tf.sub(gram(a), gram(b))));

/** Rows minus their column means. */
export const centred = (x: tf.Tensor2D): tf.Tensor2D => tf.sub(x, tf.mean(x, 0, true));

/**
 * Linear CKA ‖YcᵀXc‖²_F / (‖XcᵀXc‖_F ‖YcᵀYc‖_F), computed through the n×n sample Grams
 * (‖YcᵀXc‖²_F = ⟨Kx, Ky⟩ with K = Xc Xcᵀ), which is cheaper when the batch is smaller than the width.
 */
export const linearCka = (x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar => {
  const kx = gram(centred(x));
  const ky = gram(centred(y));
  return tf.div(tf.sum(tf.mul(kx, ky)), tf.sqrt(tf.mul(tf.sum(tf.square(kx)), tf.sum(tf.square(ky)))));
};
