import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { geluGradKernel, geluKernel } from "./wasmGelu.js";

/** Exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), timm's default, from tfjs ops. */
export const composedGelu = <T extends tf.Tensor>(x: T): T => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));

/** The same as one fused kernel and its fused gradient, Φ(x) + x φ(x) (kernels/gelu.c). */
const fusedGelu = customOp<[tf.Tensor], tf.Tensor>((x, save) => {
  save([x]);
  return {
    value: tf.engine().runKernel(geluKernel, { x }) as tf.Tensor,
    gradFunc: (dy, saved) => tf.engine().runKernel(geluGradKernel, { x: saved[0]!, dy }) as tf.Tensor,
  };
});

/** Exact GELU: fused where the backend has the kernels (wasm), composed elsewhere. */
export const gelu = <T extends tf.Tensor>(x: T): T => (tf.getKernel(geluKernel, tf.getBackend()) === undefined ? composedGelu(x) : fusedGelu(x)) as T;
