import * as tf from "@tensorflow/tfjs-core";

/*
 * Scalars on the device. tfjs turns each number an op takes into a fresh host-made tensor, and
 * on webgpu each is an upload inside the step; there, constants are made once and kept. The
 * other backends take the number itself, as before.
 */

/** Kept constants of the webgpu backend by value; a bounded set, so a changing learning rate cannot grow it. */
const kept = new Map<number, tf.Scalar>();
const keptAtMost = 256;
let keptFor: tf.KernelBackend | null = null;

const onWebGpu = () => tf.getBackend() === "webgpu";

/** `v` as an operand: a kept scalar tensor on webgpu, the number elsewhere. */
export const constant = (v: number): number | tf.Scalar => {
  if (!onWebGpu()) return v;
  if (keptFor !== tf.backend()) {
    // A new backend: the old one's tensors went with it.
    kept.clear();
    keptFor = tf.backend();
  }
  const known = kept.get(v);
  if (known !== undefined && !known.isDisposed) return known;
  if (kept.size >= keptAtMost) {
    const [oldest, tensor] = kept.entries().next().value!;
    tensor.dispose();
    kept.delete(oldest);
  }
  const made = tf.keep(tf.scalar(v));
  kept.set(v, made);
  return made;
};

/**
 * 1 − βᵢ^step for each β, as operands: on webgpu from βᵢ^step kept on the device and multiplied
 * by βᵢ there each step (a host value only when the step does not follow the last one, as after
 * a resume); elsewhere numbers from Math.pow.
 */
export const powerComplements = (betas: readonly number[]) => {
  let powers: tf.Variable[] = [];
  let last = Number.NaN;
  const dispose = () => {
    powers.forEach((p) => p.dispose());
    powers = [];
  };
  return {
    at: (step: number): (number | tf.Scalar)[] => {
      if (!onWebGpu()) return betas.map((b) => 1 - b ** step);
      if (powers.length === 0 || step !== last + 1) {
        dispose();
        powers = betas.map((b) => tf.variable(tf.scalar(b ** step), false));
      } else powers.forEach((p, i) => p.assign(tf.mul(p, constant(betas[i]!))));
      last = step;
      return powers.map((p) => tf.sub(constant(1), p));
    },
    dispose,
  };
};
