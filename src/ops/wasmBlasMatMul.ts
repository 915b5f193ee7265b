import * as tf from "@tensorflow/tfjs-core";
import type { Blas } from "./openBlas.js";
import { wasmHeapView, type WasmHeapBackend } from "./wasmHeapView.js";

let installed = false;
/** Whether this process's wasm matmuls run through the BLAS. */
export const blasInstalled = (): boolean => installed;

let calls = 0;
/** How many products this process ran through the BLAS (tests check the route is taken). */
export const blasCalls = (): number => calls;

/**
 * Whether one m × k × n product is cut into tiles shared among the threads. Small or narrow ones
 * are not: the thread handoff costs more than the second core gives (measured with OpenBLAS's own
 * threads, one against two: [1040, 192] × [192, 8] 0.05 / 0.32 ms, × [192, 96] 0.40 / 0.63 ms,
 * [128, 128]² 0.044 / 0.054 ms; but [192, 192]² 0.145 / 0.116 ms, [192, 384] × [384, 192] 0.31 /
 * 0.19 ms and [1040, 192] × [192, 192] 0.76 / 0.47 ms, so from 2^23 multiply-adds with 128 or
 * more columns). A function of the shape alone, so the sums are the same on any thread count.
 */
export const tiledProduct = (m: number, n: number, k: number): boolean => m * n * k >= 1 << 23 && n >= 128;

const batchOf = (shape: readonly number[]) => tf.util.sizeFromShape(shape.slice(0, -2));

/** For each batch item of the broadcast outer shape, the batch item of an operand with outer shape `own` it reads. */
const broadcastItems = (outer: readonly number[], own: readonly number[]): number[] => {
  const padded = [...Array<number>(outer.length - own.length).fill(1), ...own];
  const strides = padded.map((_, i) => tf.util.sizeFromShape(padded.slice(i + 1)));
  return Array.from({ length: tf.util.sizeFromShape([...outer]) }, (_, t) => {
    let item = 0;
    for (let i = outer.length - 1, rest = t; i >= 0; rest = Math.floor(rest / outer[i]!), i--) if (padded[i] !== 1) item += (rest % outer[i]!) * strides[i]!;
    return item;
  });
};

/**
 * Route the wasm backend's BatchMatMul through the system's BLAS, in place on tfjs's heap:
 * OpenBLAS's sgemm (AVX-512 / AVX2 FMA) runs ~2–4× wasm's 128-bit SIMD without fused
 * multiply-add. Transpose flags are BLAS arguments, free. Batches broadcast on both sides
 * ([2, 1] against [1, 3]) run item by item: tfjs's own wasm kernel returns a third of such a
 * product. Other dtypes keep the kernel registered before.
 */
export const installWasmBlasMatMul = (blas: Extract<Blas, { loaded: true }>): void => {
  const previous = tf.getKernel("BatchMatMul", "wasm");
  if (previous === undefined) throw new Error("the wasm backend has no BatchMatMul kernel to replace");
  const heapOf = wasmHeapView();
  installed = true;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    ...previous,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      const [batchA, batchB] = [batchOf(a.shape), batchOf(b.shape)];
      if (a.dtype !== "float32" || b.dtype !== "float32" || tf.util.sizeFromShape(a.shape) === 0 || tf.util.sizeFromShape(b.shape) === 0)
        return previous.kernelFunc(args);
      const backend = args.backend as unknown as WasmHeapBackend;
      const [m, k] = transposeA ? [a.shape.at(-1)!, a.shape.at(-2)!] : [a.shape.at(-2)!, a.shape.at(-1)!];
      const n = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
      const outerShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      const out = backend.makeOutput([...outerShape, m, n], "float32");
      const { heap, at } = heapOf(backend);
      calls++;
      const tiled = tiledProduct(m, n, k);
      if (batchA === batchB || batchA === 1 || batchB === 1) {
        // Small products of a batch (attention's) are shared among two threads whole.
        blas.matmul(
          heap,
          at(a),
          at(b),
          at(out),
          Math.max(batchA, batchB),
          m,
          n,
          k,
          batchA === 1 ? 0 : m * k,
          batchB === 1 ? 0 : k * n,
          transposeA,
          transposeB,
          tiled,
          tiled ? blas.threads : Math.min(blas.threads, 2),
        );
        return out;
      }
      const [itemsA, itemsB] = [broadcastItems(outerShape, a.shape.slice(0, -2)), broadcastItems(outerShape, b.shape.slice(0, -2))];
      itemsA.forEach((itemA, t) =>
        blas.matmul(
          heap,
          at(a) + 4 * itemA * m * k,
          at(b) + 4 * itemsB[t]! * k * n,
          at(out) + 4 * t * m * n,
          1,
          m,
          n,
          k,
          0,
          0,
          transposeA,
          transposeB,
          tiled,
          blas.threads,
        ),
      );
      return out;
    },
  });
};
