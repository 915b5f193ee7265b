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
 * 1 − βᵢ^step for each β, as operands: on webgpu kept on the device as cᵢ and advanced there each
 * step by cᵢ ← βᵢ cᵢ + (1 − βᵢ), which keeps float32's relative precision (1 − β2^t formed from
 * β2^t in float32 is off by ~1e-5 for β2 = 0.999); a host value only when the step does not
 * follow the last one, as after a resume, made by the same float32 operations, so a resumed run
 * stays bit for bit. Elsewhere numbers from Math.pow.
 */
export const powerComplements = (betas: readonly number[]) => {
  let complements: tf.Variable<tf.Rank.R0>[] = [];
  let last = Number.NaN;
  const dispose = () => {
    complements.forEach((c) => c.dispose());
    complements = [];
  };
  return {
    at: (step: number): (number | tf.Scalar)[] => {
      if (!onWebGpu()) return betas.map((b) => 1 - b ** step);
      if (complements.length === 0 || step !== last + 1) {
        dispose();
        complements = betas.map((b) => tf.variable(tf.scalar(float32Complement(b, step)), false));
      } else complements.forEach((c, i) => c.assign(tf.add(tf.mul(c, constant(betas[i]!)), constant(1 - betas[i]!))));
      last = step;
      return [...complements];
    },
    dispose,
  };
};

/** 1 − β^step as the device forms it: `step` float32 rounds of c ← β c + (1 − β) from 0. */
const float32Complement = (beta: number, step: number): number => {
  const [b, rest] = [Math.fround(beta), Math.fround(1 - beta)];
  let c = 0;
  for (let i = 0; i < step; i++) c = Math.fround(Math.fround(b * c) + rest);
  return c;
};
