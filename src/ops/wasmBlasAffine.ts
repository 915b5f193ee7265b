import * as tf from "@tensorflow/tfjs-core";
import { affineKernel } from "./affine.js";
import type { Blas } from "./openBlas.js";
import { tiledProduct } from "./wasmBlasMatMul.js";
import { wasmHeapView, type WasmHeapBackend } from "./wasmHeapView.js";

/**
 * `affine` on the wasm backend through the BLAS, in place on tfjs's heap: the bias is laid in the
 * output row by row, then x op(W) and every placed left rightᵀ are accumulated into it by sgemm
 * (beta = 1, a placed product writing its block of columns through the leading dimension).
 */
export const installWasmBlasAffine = (blas: Extract<Blas, { loaded: true }>): void => {
  const heapOf = wasmHeapView();
  tf.registerKernel({
    kernelName: affineKernel,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { transposeW, ranges, hasBias } = attrs as unknown as { transposeW: boolean; ranges: number[]; hasBias: boolean };
      // x, W, the bias if any, then each placed product's left and right (see affine).
      const [x, w, ...rest] = Object.values(inputs) as tf.TensorInfo[];
      const bias = hasBias ? rest.shift() : undefined;
      const [m, k] = x!.shape as [number, number];
      const n = w!.shape[transposeW ? 0 : 1]!;
      const tensors = Object.values(inputs) as tf.TensorInfo[];
      if (tensors.some((t) => t.dtype !== "float32")) throw new Error(`${affineKernel}: every input must be float32`);
      if (bias !== undefined && tf.util.sizeFromShape(bias.shape) !== n) throw new Error(`${affineKernel}: the bias must have ${n} values`);
      const out = (backend as unknown as WasmHeapBackend).makeOutput([m, n], "float32");
      if (m * n === 0) return out;
      const { heap, at } = heapOf(backend as unknown as WasmHeapBackend);
      const o = at(out) / 4;
      if (bias !== undefined) {
        // The first row, then ever larger copies of the rows laid so far.
        heap.copyWithin(o, at(bias) / 4, at(bias) / 4 + n);
        for (let laid = n; laid < m * n; laid *= 2) heap.copyWithin(o + laid, o, o + Math.min(laid, m * n - laid));
      } else if (k === 0) heap.fill(0, o, o + m * n);
      const gemm = (
        a: number,
        b: number,
        c: number,
        rows: number,
        cols: number,
        inner: number,
        lda: number,
        ldb: number,
        transposeB: boolean,
        accumulate: boolean,
      ) => {
        const tiled = tiledProduct(rows, cols, inner);
        blas.gemm(heap, a, b, c, rows, cols, inner, lda, ldb, n, false, transposeB, accumulate, tiled, tiled ? blas.threads : 1);
      };
      if (k > 0) gemm(at(x!), at(w!), at(out), m, n, k, k, transposeW ? k : n, transposeW, bias !== undefined);
      for (let i = 0; 2 * i < ranges.length; i++) {
        const [left, right] = [rest[2 * i]!, rest[2 * i + 1]!];
        const [from, to] = ranges[2 * i]! < 0 ? [0, n] : [ranges[2 * i]!, ranges[2 * i + 1]!];
        const r = left.shape[1]!;
        if (r === 0) continue;
        gemm(at(left), at(right), at(out) + 4 * from, m, to - from, r, r, r, true, true);
      }
      return out;
    },
  });
};
