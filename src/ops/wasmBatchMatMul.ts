import * as tf from "@tensorflow/tfjs-core";
import { kernelModule, moduleKernelFunc } from "./wasmKernelModule.js";

/** Multiply-adds from which a product is split across two threads. */
const splitFrom = 1 << 18;

/**
 * Replace the wasm backend's BatchMatMul for batches above 1 by kernels/batchMatMul.wasm (SIMD,
 * 4 × 8 register tiles): tfjs runs those through a scalar loop at ~1 GFLOP/s, and attention's
 * [n·heads, t, d] products are most of a ViT step. Plain 2-D products (batch 1) and transpose
 * flags keep tfjs's own kernel (XNNPACK), as does any operand not of rank 3. Large products run
 * on two threads, split over the batch.
 */
export const installWasmBatchMatMul = (): void => {
  const original = tf.getKernel("BatchMatMul", "wasm");
  if (original === undefined) throw new Error("the wasm backend has no BatchMatMul kernel to replace");
  const batchOf = (shape: readonly number[]) => tf.util.sizeFromShape(shape.slice(0, -2));
  const ours = moduleKernelFunc(kernelModule("batchMatMul", { helper: true }), {
    inputs: (i) => [i.a!, i.b!],
    outputs: ([a, b]) => [[Math.max(batchOf(a), batchOf(b!)), a[1]!, b![2]!]],
    run: (k, [a, b, c], [aShape, bShape]) => {
      const [batchA, batchB] = [batchOf(aShape), batchOf(bShape!)];
      const batch = Math.max(batchA, batchB);
      const [m, inner, n] = [aShape[1]!, aShape[2]!, bShape![2]!];
      const [stepA, stepB] = [batchA === 1 ? 0 : m * inner, batchB === 1 ? 0 : inner * n];
      if (batch * m * inner * n < splitFrom) return k.exports.bmm!(a!, b!, c!, batch, m, inner, n, stepA, stepB);
      const half = Math.floor(batch / 2);
      k.split(
        "bmm",
        [a!, b!, c!, half, m, inner, n, stepA, stepB],
        [a! + 4 * half * stepA, b! + 4 * half * stepB, c! + 4 * half * m * n, batch - half, m, inner, n, stepA, stepB],
      );
    },
  });
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const [batchA, batchB] = [batchOf(a.shape), batchOf(b.shape)];
      // Rank-3 operands with equal batches or one broadcast: everything else stays with tfjs.
      const mine = a.shape.length === 3 && b.shape.length === 3 && (batchA === batchB || batchA === 1 || batchB === 1);
      if (transposeA || transposeB || Math.max(batchA, batchB) <= 1 || !mine || a.dtype !== "float32" || b.dtype !== "float32")
        return original.kernelFunc(args);
      return ours(args);
    },
  });
};
