import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";

/** The identity whose gradient is zero (tfjs has no stop_gradient): a value the objective reads but must not move. */
export const stopGradient = customOp<[tf.Tensor], tf.Tensor>((x) => ({
  value: tf.clone(x),
  gradFunc: (dy) => tf.zerosLike(dy),
}));
