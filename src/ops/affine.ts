import * as tf from "@tensorflow/tfjs-core";
import { matMulSwapped } from "./batchMatMul.js";
import { placeBlocks } from "./placeBlocks.js";

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
export const affine = (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  transposeW: boolean,
  bias: tf.Tensor | undefined,
  parts: readonly PlacedProduct[],
  weightRows: TrainedRows = null,
): tf.Tensor2D => {
  // A list, as tfjs takes a kernel's variable inputs (Concat's): x, W, the bias if any, each product's left and right.
  const inputs = [x, w, ...(bias === undefined ? [] : [bias]), ...parts.flatMap((p) => [p.left, p.right])];
  const ranges = parts.flatMap((p) => p.range ?? [-1, -1]);
  const attrs = { transposeW, ranges, hasBias: bias !== undefined, weightRows: weightRows?.flat() ?? [] };
  return tf.engine().runKernel(affineKernel, inputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor2D;
};

/** Row ranges [from, to) of a W [out, in] that depend on trained values, or null: all of it. */
export type TrainedRows = readonly (readonly [number, number])[] | null;

/**
 * dW = dyᵀ x for y = x Wᵀ, formed on the trained rows alone, zeros elsewhere: a method adapting
 * q and v of the fused qkv weight skips k's third of the product.
 */
export const weightGradient = (dy: tf.Tensor2D, x: tf.Tensor2D, rows: TrainedRows, out: number): tf.Tensor2D =>
  rows === null
    ? matMulSwapped(dy, x, true, false)
    : placeBlocks(
        rows.map(([from, to]) => ({ range: [from, to] as const, value: matMulSwapped(tf.slice(dy, [0, from], [-1, to - from]), x, true, false) })),
        out,
        0,
        x.shape[1],
      );

// Per input, so the tape forms only the gradients it needs: a frozen W's, a frozen bias's and the
// first block's input's are never formed.
tf.registerGradient({
  kernelName: affineKernel,
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const { transposeW, ranges, hasBias, weightRows } = attrs as unknown as { transposeW: boolean; ranges: number[]; hasBias: boolean; weightRows: number[] };
    const [x, w, ...rest] = saved as tf.Tensor2D[];
    const bias = hasBias ? rest.shift()! : undefined;
    const g = dy as tf.Tensor2D;
    // Keyed by input position, as the inputs were given.
    const grads: Record<string, () => tf.Tensor> = {
      // op(W) = Wᵀ for W [out, in]: dx = dy W, dW = dyᵀ x; else dx = dy Wᵀ, dW = xᵀ dy.
      0: () => matMulSwapped(g, w!, false, !transposeW),
      1: () => {
        if (!transposeW) return matMulSwapped(x!, g, true, false);
        const rows = weightRows.length === 0 ? null : weightRows.flatMap((from, i) => (i % 2 === 0 ? [[from, weightRows[i + 1]!] as const] : []));
        return weightGradient(g, x!, rows, w!.shape[0]);
      },
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
