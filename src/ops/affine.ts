import * as tf from "@tensorflow/tfjs-core";
import { matMulSwapped } from "./batchMatMul.js";

/** left rightᵀ ([n, r] × [cols, r]ᵀ) added to the output columns `range` ([from, to); null: all of them). */
export interface PlacedProduct {
  readonly range: readonly [number, number] | null;
  readonly left: tf.Tensor2D;
  readonly right: tf.Tensor2D;
}

/** The kernel a backend may register for `affine` (the wasm backend does where a BLAS loads). */
export const affineKernel = "PeftAffine";

/** Whether the current backend runs `affine` as one kernel; elsewhere callers compose it. */
export const affineAvailable = (): boolean => tf.getKernel(affineKernel, tf.getBackend()) !== undefined;

/**
 * y = x op(W) + b + Σ placed left rightᵀ in one kernel (see affineAvailable): a linear layer's
 * product, its bias and the low-rank deltas in columns of its output (LoRA on q and v of the
 * fused qkv) written into one output, with no [n, out] intermediates or zero blocks.
 */
export const affine = (x: tf.Tensor2D, w: tf.Tensor2D, transposeW: boolean, bias: tf.Tensor | undefined, parts: readonly PlacedProduct[]): tf.Tensor2D => {
  // A list, as tfjs takes a kernel's variable inputs (Concat's): x, W, the bias if any, each product's left and right.
  const inputs = [x, w, ...(bias === undefined ? [] : [bias]), ...parts.flatMap((p) => [p.left, p.right])];
  const ranges = parts.flatMap((p) => p.range ?? [-1, -1]);
  return tf.engine().runKernel(affineKernel, inputs as unknown as tf.NamedTensorMap, { transposeW, ranges, hasBias: bias !== undefined }) as tf.Tensor2D;
};

// Per input, so the tape forms only the gradients it needs: a frozen W's, a frozen bias's and the
// first block's input's are never formed.
tf.registerGradient({
  kernelName: affineKernel,
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const { transposeW, ranges, hasBias } = attrs as unknown as { transposeW: boolean; ranges: number[]; hasBias: boolean };
    const [x, w, ...rest] = saved as tf.Tensor2D[];
    const bias = hasBias ? rest.shift()! : undefined;
    const g = dy as tf.Tensor2D;
    // Keyed by input position, as the inputs were given.
    const grads: Record<string, () => tf.Tensor> = {
      // op(W) = Wᵀ for W [out, in]: dx = dy W, dW = dyᵀ x; else dx = dy Wᵀ, dW = xᵀ dy.
      0: () => matMulSwapped(g, w!, false, !transposeW),
      1: () => (transposeW ? matMulSwapped(g, x!, true, false) : matMulSwapped(x!, g, true, false)),
      ...(bias === undefined ? {} : { 2: () => tf.reshape(tf.sum(g, 0), bias.shape) }),
    };
    const first = bias === undefined ? 2 : 3;
    for (let i = 0; 2 * i < ranges.length; i++) {
      const [left, right] = [rest[2 * i]!, rest[2 * i + 1]!];
      const columns = () => (ranges[2 * i]! < 0 ? g : tf.slice(g, [0, ranges[2 * i]!], [-1, ranges[2 * i + 1]! - ranges[2 * i]!]));
      grads[first + 2 * i] = () => tf.matMul(columns(), right);
      grads[first + 2 * i + 1] = () => matMulSwapped(columns(), left, true, false);
    }
    return grads;
  },
});
