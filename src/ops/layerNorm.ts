import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { layerNormGradKernel, layerNormKernel } from "./wasmLayerNorm.js";

/** LayerNorm over the last axis of [n, d] rows, with timm's biased variance, from tfjs ops. */
export const composedLayerNorm = (x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
};

/** The same as one fused kernel and its fused gradient (kernels/layerNorm.c), one op per ε. */
const fused = new Map<number, (x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor2D>();
const fusedLayerNorm = (eps: number) => {
  let op = fused.get(eps);
  if (op === undefined) {
    op = customOp<[tf.Tensor2D, tf.Tensor, tf.Tensor], tf.Tensor2D>((x, gamma, beta, save) => {
      save([x, gamma]);
      return {
        value: tf.engine().runKernel(layerNormKernel, { x, gamma, beta }, { eps }) as tf.Tensor2D,
        gradFunc: (dy, [xs, g]) => tf.engine().runKernel(layerNormGradKernel, { x: xs!, gamma: g!, dy }, { eps }) as tf.Tensor[],
      };
    });
    fused.set(eps, op);
  }
  return op;
};

/** LayerNorm: fused where the backend has the kernels (wasm), composed elsewhere. */
export const layerNorm = (x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D =>
  tf.getKernel(layerNormKernel, tf.getBackend()) === undefined ? composedLayerNorm(x, gamma, beta, eps) : fusedLayerNorm(eps)(x, gamma, beta);
