import * as tf from "@tensorflow/tfjs-core";
import { kernelModule, type WasmTensors } from "./wasmKernelModule.js";

/**
 * Replace the wasm backend's BatchMatMul for batches above 1 by kernels/batchMatMul.wasm (SIMD,
 * 4 × 8 register tiles): tfjs runs those through a scalar loop at ~1 GFLOP/s, and attention's
 * [n·heads, t, d] products are most of a ViT step. Plain 2-D products (batch 1) and transpose
 * flags keep tfjs's own kernel (XNNPACK), as does any operand not of rank 3. Inputs are copied
 * into the kernel's memory and the product back into a tfjs tensor; both are small next to the multiply.
 */
export const installWasmBatchMatMul = (): void => {
  const original = tf.getKernel("BatchMatMul", "wasm");
  if (original === undefined) throw new Error("the wasm backend has no BatchMatMul kernel to replace");
  const kernel = kernelModule("batchMatMul");
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    kernelName: "BatchMatMul",
    backendName: "wasm",
    ...(original.setupFunc ? { setupFunc: original.setupFunc } : {}),
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const [batchA, batchB] = [tf.util.sizeFromShape(a.shape.slice(0, -2)), tf.util.sizeFromShape(b.shape.slice(0, -2))];
      const batch = Math.max(batchA, batchB);
      // Rank-3 operands with equal batches or one broadcast: everything else stays with tfjs.
      const ours = a.shape.length === 3 && b.shape.length === 3 && (batchA === batchB || batchA === 1 || batchB === 1);
      if (transposeA || transposeB || batch <= 1 || !ours || a.dtype !== "float32" || b.dtype !== "float32") return original.kernelFunc(args);
      const [m, k] = a.shape.slice(-2) as [number, number];
      const n = b.shape[2]!;
      const backend = args.backend as unknown as WasmTensors;
      const [offA, offB, offC] = kernel.stage([backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b)], [batch * m * n]);
      kernel.exports.bmm!(offA!, offB!, offC!, batch, m, k, n, batchA === 1 ? 0 : m * k, batchB === 1 ? 0 : k * n);
      const out = backend.makeOutput([batch, m, n], "float32");
      backend.typedArrayFromHeap(out).set(kernel.read(offC!, batch * m * n));
      return out;
    },
  });
};
