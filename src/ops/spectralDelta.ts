import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { realIdft2 } from "./realIdft2.js";
import { scatterFlat } from "./scatterFlat.js";
import { blasInstalled } from "./wasmBlasMatMul.js";

/** The kernels of a sparse spectrum's row transforms (native/spectral.c, on wasm where the addon built). */
export const spectralRowsKernel = "PeftSpectralRows";
export const spectralRowsGradKernel = "PeftSpectralRowsGrad";

/** Shapes whose column transform as a product, [m, 2m] × [2m, n], takes at most this many multiply-adds: 768² (9.1e8) does, 3072 × 768 goes to the FFT. */
const columnsAtMost = 1 << 30;

/**
 * The kept DFT factors of an m × n spectrum: the column factor [Cm | −Sm]/(m·n) [m, 2m] and the
 * rows' table [Cn; Sn] [2n, n], C[j, u] = cos(2π ju/len), S likewise (angles reduced exactly).
 */
const kept = new Map<string, { readonly left: tf.Tensor2D; readonly table: tf.Tensor2D }>();
let keptFor: tf.KernelBackend | null = null;

const factorsOf = (m: number, n: number) => {
  if (keptFor !== tf.backend()) {
    // A new backend: the old one's tensors went with it.
    kept.clear();
    keptFor = tf.backend();
  }
  const key = `${m}x${n}`;
  let f = kept.get(key);
  if (f === undefined) {
    const angle = (a: number, b: number, len: number) => (2 * Math.PI * ((a * b) % len)) / len;
    const left = Float32Array.from({ length: 2 * m * m }, (_, i) => {
      const [j, c] = [Math.floor(i / (2 * m)), i % (2 * m)];
      return (c < m ? Math.cos(angle(j, c, m)) : -Math.sin(angle(j, c - m, m))) / (m * n);
    });
    const table = Float32Array.from({ length: 2 * n * n }, (_, i) => {
      const [r, k] = [Math.floor(i / n), i % n];
      return r < n ? Math.cos(angle(r, k, n)) : Math.sin(angle(r - n, k, n));
    });
    f = { left: tf.keep(tf.tensor2d(left, [m, 2 * m])), table: tf.keep(tf.tensor2d(table, [2 * n, n])) };
    kept.set(key, f);
  }
  return f;
};

/**
 * Y = Re(IDFT2(S)) [m, n], normalised by 1/(m·n), for S zero but `values` at the flat int32
 * `positions` (FourierFT's and S²FT's ΔW before the scale). On wasm with the native kernels and
 * a BLAS: the row transforms of the L coefficients as L rows of a table, T = [Re; Im] [2m, n], then the
 * column transform as one product Y = [Cm | −Sm] T / (m·n); the gradient is the adjoint, at the
 * L positions alone. Elsewhere S is scattered and transformed whole (realIdft2).
 */
export const spectralDelta = (values: tf.Tensor1D, positions: tf.Tensor1D, m: number, n: number): tf.Tensor2D => {
  const byRows = tf.getKernel(spectralRowsKernel, tf.getBackend()) !== undefined && blasInstalled() && 2 * m * m * n <= columnsAtMost;
  if (!byRows) return realIdft2(tf.reshape(scatterFlat(values, positions, m * n), [m, n]));
  const { left, table } = factorsOf(m, n);
  return customOp<[tf.Tensor1D, tf.Tensor1D], tf.Tensor2D>((c, p, save) => {
    // The positions are an input (saved), not captured: they may be gone by the time the gradient runs.
    save([p]);
    const rows = tf.engine().runKernel(spectralRowsKernel, { values: c, positions: p, table }, { m, n }) as tf.Tensor2D;
    return {
      value: tf.matMul(left, rows),
      gradFunc: (dy, [ps]) => {
        const a = tf.matMul(left, dy, true, false);
        return [tf.engine().runKernel(spectralRowsGradKernel, { a, positions: ps!, table }, { m, n }) as tf.Tensor1D, tf.zerosLike(ps!)];
      },
    };
  })(values, positions);
};
