import * as tf from "@tensorflow/tfjs-core";
import { hostCopy } from "../util/hostRead.js";
import { constant, powerComplements } from "./deviceScalars.js";

export interface AdamWSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/** AdamW's state over a set of tensors, updated together. */
export interface AdamW {
  /** One update from the tensors' gradients flattened and concatenated in order (`flatten`); `step` is the 1-based count for bias correction. */
  readonly update: (gradient: tf.Tensor1D, lr: number, step: number) => void;
  /** The moments as host arrays, named `${tensor}#m` and `${tensor}#v`. */
  readonly state: () => Promise<Map<string, Float32Array>>;
  readonly loadState: (state: ReadonlyMap<string, Float32Array>) => void;
  readonly dispose: () => void;
}

/** Tensors as one flat vector, in order. */
export const flatten = (ts: readonly tf.Tensor[]): tf.Tensor1D =>
  (ts.length === 0 ? tf.zeros([0]) : tf.concat(ts.map((t) => tf.reshape(t, [-1])))) as tf.Tensor1D;

/**
 * Decoupled-weight-decay Adam (Loshchilov & Hutter), in place:
 * m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  p ← p − lr (m̂ / (√v̂ + ε) + λ p).
 * All tensors go through it as one flat vector, so an update is a dozen kernels rather than a
 * dozen per tensor (GPU backends pay per dispatch); λ is a per-entry vector, 0 where a tensor does
 * not decay. Element by element the arithmetic is the per-tensor update's, bit for bit.
 */
export const adamW = (tensors: readonly (readonly [string, tf.Variable])[], decays: readonly boolean[], s: AdamWSettings): AdamW => {
  const sizes = tensors.map(([, v]) => v.size);
  const total = sizes.reduce((a, b) => a + b, 0);
  const m = tf.tidy(() => tf.variable(tf.zeros([total]), false));
  const v = tf.tidy(() => tf.variable(tf.zeros([total]), false));
  const lambda = tf.tidy(() => flatten(tensors.map(([, p], i) => tf.fill([p.size], decays[i] ? s.weightDecay : 0))));
  // Bias corrections 1 − βᵢ^t, on the device where that saves uploads.
  const corrections = powerComplements([s.beta1, s.beta2]);
  return {
    update: (g, lr, step) => {
      if (total === 0) return;
      tf.tidy(() => {
        const p = flatten(tensors.map(([, t]) => t));
        const m1 = tf.add(tf.mul(m, constant(s.beta1)), tf.mul(g, constant(1 - s.beta1)));
        const v1 = tf.add(tf.mul(v, constant(s.beta2)), tf.mul(tf.square(g), constant(1 - s.beta2)));
        const [c1, c2] = corrections.at(step);
        const mHat = tf.div(m1, c1!);
        const vHat = tf.div(v1, c2!);
        const update = tf.add(tf.div(mHat, tf.add(tf.sqrt(vHat), constant(s.eps))), tf.mul(p, lambda));
        m.assign(m1);
        v.assign(v1);
        const next = tf.split(tf.sub(p, tf.mul(update, constant(lr))), sizes);
        tensors.forEach(([, t], i) => t.assign(tf.reshape(next[i]!, t.shape)));
      });
    },
    state: async () => {
      const [mh, vh] = [(await hostCopy(m)) as Float32Array, (await hostCopy(v)) as Float32Array];
      const out = new Map<string, Float32Array>();
      let at = 0;
      tensors.forEach(([name], i) => {
        out.set(`${name}#m`, mh.slice(at, at + sizes[i]!));
        out.set(`${name}#v`, vh.slice(at, at + sizes[i]!));
        at += sizes[i]!;
      });
      return out;
    },
    loadState: (state) => {
      for (const [suffix, target] of [
        ["#m", m],
        ["#v", v],
      ] as const) {
        const parts = tensors.map(([name], i) => {
          const data = state.get(`${name}${suffix}`);
          if (!data || data.length !== sizes[i]) throw new Error(`optimizer state ${name}${suffix} is missing or has the wrong size`);
          return data;
        });
        const all = new Float32Array(total);
        let at = 0;
        for (const part of parts) {
          all.set(part, at);
          at += part.length;
        }
        tf.tidy(() => target.assign(tf.tensor1d(all)));
      }
    },
    dispose: () => {
      tf.dispose([m, v, lambda]);
      corrections.dispose();
    },
  };
};
