import * as tf from "@tensorflow/tfjs-core";
import { matMul2d } from "./batchMatMul.js";

/** Taylor terms after scaling: with ‖A/2^s‖_F ≤ 1/2 the remainder is below 0.5¹³/13! ≈ 2e-14. */
const taylorOrder = 12;

/** Squarings s that bring ‖A‖_F (an upper bound of the spectral norm) to ≤ 1/2. */
export const squaringsFor = (frobeniusNorm: number): number => (frobeniusNorm <= 0.5 ? 0 : Math.ceil(Math.log2(frobeniusNorm / 0.5)));

/**
 * Taylor terms for a scaled ‖A‖_F = a ≤ 1/2: the least k ≥ 1 whose remainder bound a^(k+1)/(k+1)!
 * is below 0.5¹³/13!, so 12 at a = 1/2 and fewer for a small M (RIFT's starts at 0): each term
 * costs a matmul forward and two backward.
 */
export const taylorOrderFor = (a: number): number => {
  const bound = 0.5 ** 13 / 6227020800;
  let [order, remainder] = [1, (a * a) / 2];
  while (order < taylorOrder && remainder > bound) {
    order++;
    remainder *= a / (order + 1);
  }
  return order;
};

/** How Q = exp(M − Mᵀ) is evaluated for M − Mᵀ of Frobenius norm `norm`: squarings, then Taylor terms. */
export interface ExpPlan {
  readonly squarings: number;
  readonly order: number;
}

export const expPlanFor = (norm: number): ExpPlan => {
  const squarings = squaringsFor(norm);
  return { squarings, order: taylorOrderFor(norm / 2 ** squarings) };
};

/**
 * Q = exp(M − Mᵀ): orthogonal for every M (the exponential of a skew-symmetric matrix), the
 * identity at M = 0. Scaling and squaring with a Horner-form Taylor series — only matmuls, so
 * autodiff gives the exact gradient of what is computed. `squarings` and `order` come from
 * `expPlanFor` on the host-side norm of M − Mᵀ (they shape the graph, so they cannot be tensors).
 */
export const orthogonalExp = (m: tf.Tensor2D, squarings: number, order = taylorOrder): tf.Tensor2D => {
  const d = m.shape[0];
  const eye = tf.eye(d);
  const a = tf.mul(tf.sub(m, tf.transpose(m)), 1 / 2 ** squarings) as tf.Tensor2D;
  let e: tf.Tensor2D = eye;
  for (let k = order; k >= 1; k--) e = tf.add(eye, tf.mul(matMul2d(a, e), 1 / k));
  for (let i = 0; i < squarings; i++) e = matMul2d(e, e);
  return e;
};

/** The plan for M's values: from the host norm ‖M − Mᵀ‖_F. */
const planOf = (data: ArrayLike<number>, d: number): ExpPlan => {
  let norm2 = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) norm2 += (data[i * d + j]! - data[j * d + i]!) ** 2;
  return expPlanFor(Math.sqrt(norm2));
};

/** Plans read ahead of a step, by the buffer of the value they were read from (a new value is a new buffer). */
const readAhead = new WeakMap<object, ExpPlan>();

/** Read M asynchronously and keep its plan for `orthogonalOf(M)`: the step then reads nothing (WebGPU cannot read synchronously). */
export const readSquaringsAhead = async (m: tf.Tensor2D): Promise<void> => {
  readAhead.set(m.dataId, planOf(await m.data(), m.shape[0]));
};

/** Q = exp(M − Mᵀ) with squarings and Taylor terms chosen from M's current value (read ahead, else one synchronous host read of M). */
export const orthogonalOf = (m: tf.Tensor2D): tf.Tensor2D => {
  const plan = readAhead.get(m.dataId) ?? (tf.getBackend() === "webgpu" ? null : planOf(m.dataSync(), m.shape[0]));
  if (plan === null) throw new Error("RIFT's rotation needs its squarings read ahead of the forward pass on WebGPU (Program.readAhead)");
  return orthogonalExp(m, plan.squarings, plan.order);
};
