import * as tf from "@tensorflow/tfjs-core";

/**
 * Compute a tensor in a tidy scope and copy it to the host. (Never return a typed array from
 * tf.tidy itself: tidy walks its result element by element looking for tensors.)
 */
export const readHost = (f: () => tf.Tensor): Float32Array => {
  const t = tf.tidy(f);
  try {
    return (t.dataSync() as Float32Array).slice();
  } finally {
    t.dispose();
  }
};
