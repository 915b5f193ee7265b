import * as tf from "@tensorflow/tfjs-core";

/**
 * Compute a tensor in a tidy scope and copy it to the host. (Never return a typed array from
 * tf.tidy itself: tidy walks its result element by element looking for tensors.) Synchronous,
 * so CPU backends only: WebGPU in Node cannot read synchronously — library code uses `download`.
 */
export const readHost = (f: () => tf.Tensor): Float32Array => {
  const t = tf.tidy(f);
  try {
    return (t.dataSync() as Float32Array).slice();
  } finally {
    t.dispose();
  }
};

/** A host copy of a tensor's values; works on every backend (WebGPU reads only asynchronously). */
export const hostCopy = async (t: tf.Tensor): Promise<Float32Array | Int32Array> => (await t.data()).slice() as Float32Array | Int32Array;

/** `hostCopy` of a float tensor computed in a tidy scope, which is then disposed. */
export const downloadHost = async (f: () => tf.Tensor): Promise<Float32Array> => {
  const t = tf.tidy(f);
  try {
    return (await hostCopy(t)) as Float32Array;
  } finally {
    t.dispose();
  }
};
