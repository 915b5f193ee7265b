import * as tf from "@tensorflow/tfjs-core";

/** Taylor terms after scaling: with ‖A/2^s‖_F ≤ 1/2 the remainder is below 0.5¹³/13! ≈ 2e-14. */
const taylorOrder = 12;

/** Squarings s that bring ‖A‖_F (an upper bound of the spectral norm) to ≤ 1/2. */
export const squaringsFor = (frobeniusNorm: number): number =>
  frobeniusNorm <= 0.5 ? 0 : Math.ceil(Math.log2(frobeniusNorm / 0.5));

/**
 * Q = exp(M − Mᵀ): orthogonal for every M (the exponential of a skew-symmetric matrix), the
 * identity at M = 0. Scaling and squaring with a Horner-form Taylor series — only matmuls, so
 * autodiff gives the exact gradient of what is computed. `squarings` comes from `squaringsFor`
 * on the host-side norm of M − Mᵀ (it shapes the graph, so it cannot be a tensor).
 */
export const orthogonalExp = (m: tf.Tensor2D, squarings: number): tf.Tensor2D => {
  const d = m.shape[0];
  const eye = tf.eye(d);
  const a = tf.mul(tf.sub(m, tf.transpose(m)), 1 / 2 ** squarings);
  let e: tf.Tensor2D = eye;
  for (let k = taylorOrder; k >= 1; k--) e = tf.add(eye, tf.mul(tf.matMul(a, e), 1 / k));
  for (let i = 0; i < squarings; i++) e = tf.matMul(e, e);
  return e;
};

/** Squarings for M's values: from the host norm ‖M − Mᵀ‖_F. */
const squaringsOf = (data: ArrayLike<number>, d: number): number => {
  let norm2 = 0;
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) norm2 += (data[i * d + j]! - data[j * d + i]!) ** 2;
  return squaringsFor(Math.sqrt(norm2));
};

/** Squarings read ahead of a step, by the buffer of the value they were read from (a new value is a new buffer). */
const readAhead = new WeakMap<object, number>();

/** Read M asynchronously and keep its squarings for `orthogonalOf(M)`: the step then reads nothing (WebGPU cannot read synchronously). */
export const readSquaringsAhead = async (m: tf.Tensor2D): Promise<void> => {
  readAhead.set(m.dataId, squaringsOf(await m.data(), m.shape[0]));
};

/** Q = exp(M − Mᵀ) with the squarings chosen from M's current value (read ahead, else one synchronous host read of M). */
export const orthogonalOf = (m: tf.Tensor2D): tf.Tensor2D => {
  const ahead = readAhead.get(m.dataId);
  if (ahead !== undefined) return orthogonalExp(m, ahead);
  if (tf.getBackend() === "webgpu") throw new Error("RIFT's rotation needs its squarings read ahead of the forward pass on WebGPU (Program.readAhead)");
  return orthogonalExp(m, squaringsOf(m.dataSync(), m.shape[0]));
};
