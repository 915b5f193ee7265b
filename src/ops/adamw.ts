import * as tf from "@tensorflow/tfjs-core";

export interface AdamWSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

/**
 * One decoupled-weight-decay Adam update (Loshchilov & Hutter), in place:
 * m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  p ← p − lr (m̂ / (√v̂ + ε) + λ p).
 * `step` is the 1-based update count used for bias correction.
 */
export const adamwUpdate = (
  p: tf.Variable, g: tf.Tensor, m: tf.Variable, v: tf.Variable,
  lr: number, step: number, decay: boolean, s: AdamWSettings,
): void => {
  tf.tidy(() => {
    const m1 = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
    const v1 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    const mHat = tf.div(m1, 1 - s.beta1 ** step);
    const vHat = tf.div(v1, 1 - s.beta2 ** step);
    let update = tf.div(mHat, tf.add(tf.sqrt(vHat), s.eps));
    if (decay && s.weightDecay > 0) update = tf.add(update, tf.mul(p, s.weightDecay));
    m.assign(m1);
    v.assign(v1);
    p.assign(tf.sub(p, tf.mul(update, lr)));
  });
};
