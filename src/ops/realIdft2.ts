import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { realIdft2Host } from "./hostFft.js";

/** Backends whose complex FFT kernels are fast enough for 768×3072 matrices. */
const nativeFftBackends = new Set(["tensorflow", "webgpu"]);

/** Re(IDFT2(s)) with tfjs's own complex kernels (each axis normalised by 1/length). */
export const realIdft2Native = (s: tf.Tensor2D): tf.Tensor2D =>
  tf.tidy(() => {
    const rows = tf.spectral.ifft(tf.complex(s, tf.zerosLike(s)));
    const cols = tf.spectral.ifft(tf.transpose(rows));
    return tf.transpose(tf.real(cols)) as tf.Tensor2D;
  });

const apply = (s: tf.Tensor2D): tf.Tensor2D => {
  if (nativeFftBackends.has(tf.getBackend())) return realIdft2Native(s);
  const [m, n] = s.shape;
  return tf.tensor2d(realIdft2Host(s.dataSync() as Float32Array, m, n), [m, n]);
};

/**
 * Y = Re(IDFT2(S)) for a real spectrum S [m, n], normalised by 1/(m·n): FourierFT's and
 * S²FT's ΔW before the scale α. For real S, Y[j,k] = Σ S[u,v] cos(2π(uj/m + vk/n)) / (m·n),
 * a symmetric kernel, so the gradient is the same map applied to dY.
 */
export const realIdft2 = customOp<[tf.Tensor2D], tf.Tensor2D>((s) => ({
  value: apply(s),
  gradFunc: (dy) => apply(dy),
}));
