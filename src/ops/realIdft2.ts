import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { realIdft2Host } from "./hostFft.js";
import { blasInstalled } from "./wasmBlasMatMul.js";

/** Backends whose complex FFT kernels are fast enough for 768×3072 matrices. */
const nativeFftBackends = new Set(["tensorflow", "webgpu"]);

/** Re(IDFT2(s)) with tfjs's own complex kernels (each axis normalised by 1/length). */
export const realIdft2Native = (s: tf.Tensor2D): tf.Tensor2D =>
  tf.tidy(() => {
    const rows = tf.spectral.ifft(tf.complex(s, tf.zerosLike(s)));
    const cols = tf.spectral.ifft(tf.transpose(rows));
    return tf.transpose(tf.real(cols)) as tf.Tensor2D;
  });

/** Sizes whose IDFT as two products takes at most this many multiply-adds, 2·m·n·(m + n): 192² takes 2.8e7; 768² (1.8e9) goes to the FFT. */
const productsAtMost = 1 << 28;

/** The kept DFT factors of an [m, n] spectrum: [Cn, Sn] [2, n, n] and [Cm | −Sm]/(m·n) [m, 2m]; C[j, u] = cos(2π ju/len), S likewise. */
const factors = new Map<string, { readonly right: tf.Tensor3D; readonly left: tf.Tensor2D }>();
let factorsFor: tf.KernelBackend | null = null;

const factorsOf = (m: number, n: number) => {
  if (factorsFor !== tf.backend()) {
    // A new backend: the old one's tensors went with it.
    factors.clear();
    factorsFor = tf.backend();
  }
  const key = `${m}x${n}`;
  let f = factors.get(key);
  if (f === undefined) {
    const angle = (a: number, b: number, len: number) => (2 * Math.PI * ((a * b) % len)) / len;
    const right = Float32Array.from({ length: 2 * n * n }, (_, i) => {
      const [part, v, k] = [Math.floor(i / (n * n)), Math.floor(i / n) % n, i % n];
      return part === 0 ? Math.cos(angle(v, k, n)) : Math.sin(angle(v, k, n));
    });
    const left = Float32Array.from({ length: 2 * m * m }, (_, i) => {
      const [j, c] = [Math.floor(i / (2 * m)), i % (2 * m)];
      return (c < m ? Math.cos(angle(j, c, m)) : -Math.sin(angle(j, c - m, m))) / (m * n);
    });
    f = { right: tf.keep(tf.tensor3d(right, [2, n, n])), left: tf.keep(tf.tensor2d(left, [m, 2 * m])) };
    factors.set(key, f);
  }
  return f;
};

/**
 * Y = (Cm S Cn − Sm S Sn)/(m·n), the real 2-D IDFT of a real S as two products on the device:
 * Q = S [Cn, Sn] (a batch of two, [2, m, n] = [S Cn; S Sn] stacked), then [Cm | −Sm] Q / (m·n).
 */
const realIdft2Products = (s: tf.Tensor2D): tf.Tensor2D => {
  const [m, n] = s.shape;
  const { right, left } = factorsOf(m, n);
  return tf.matMul(left, tf.reshape(tf.matMul(tf.reshape(s, [1, m, n]), right), [2 * m, n]));
};

const apply = (s: tf.Tensor2D): tf.Tensor2D => {
  if (nativeFftBackends.has(tf.getBackend())) return realIdft2Native(s);
  const [m, n] = s.shape;
  // On wasm with a BLAS a small IDFT is cheaper as products than a round trip to the host FFT (192²: ~0.3 against ~1 ms).
  if (tf.getBackend() === "wasm" && blasInstalled() && 2 * m * n * (m + n) <= productsAtMost) return realIdft2Products(s);
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
