import * as tf from "@tensorflow/tfjs-core";

/** tf.customGrad with the argument list typed: `f(a, b, ..., save)` returns value and gradFunc. */
export const customOp = <Args extends tf.Tensor[], R extends tf.Tensor>(
  f: (...args: [...Args, tf.GradSaveFunc]) => { value: R; gradFunc: (dy: R, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] },
): ((...args: Args) => R) => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...args: Args) => R;
