import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "../util/packageRoot.js";

/** native/: kernels that work in place on a Float32Array over tfjs-wasm's heap; offsets in bytes. */
export interface NativeAddon {
  /** The -march the kernels were compiled for: `x86-64-v3` (the same sums on every CPU that has it) or `native`. */
  march(): string;
  /** Open a CBLAS library; its configuration line (OpenBLAS's) or its path. */
  blasLoad(path: string): string;
  /**
   * c[t] = op(a[t]) op(b[t]) for t < batch; strides in floats (0 broadcasts). `tiled` cuts each
   * product into at most eight blocks of rows or columns of c (the longer side); the products (or blocks) are shared among `threads` threads.
   */
  matmul(
    heap: Float32Array,
    a: number,
    b: number,
    c: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    strideA: number,
    strideB: number,
    transposeA: boolean,
    transposeB: boolean,
    tiled: boolean,
    threads: number,
  ): void;
  /** c = op(a) op(b), plus c when `accumulate`; leading dimensions in floats (c may be a block of a wider matrix); tiled and threads as matmul's. */
  gemm(
    heap: Float32Array,
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    lda: number,
    ldb: number,
    ldc: number,
    transposeA: boolean,
    transposeB: boolean,
    accumulate: boolean,
    tiled: boolean,
    threads: number,
  ): void;
  /** GELU of n elements, shared among `threads` threads when large. */
  gelu(heap: Float32Array, x: number, y: number, n: number, threads: number): void;
  geluGrad(heap: Float32Array, x: number, dy: number, dx: number, n: number, threads: number): void;
  layerNorm(heap: Float32Array, x: number, gamma: number, beta: number, y: number, rows: number, d: number, eps: number): void;
  layerNormGrad(
    heap: Float32Array,
    x: number,
    gamma: number,
    dy: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    rows: number,
    d: number,
    eps: number,
  ): void;
  /** y = x with its axes permuted, 4-byte elements; perm must keep the last axis last. */
  /** out [n·t, w] and probs [n·heads, t, t] of softmax(scale · q kᵀ) v per image and head, read from qkv [n·t, 3w]; over `threads` threads. */
  attention(heap: Float32Array, qkv: number, out: number, probs: number, n: number, t: number, heads: number, d: number, threads: number, scale: number): void;
  /** d qkv [n·t, 3w] from d out (and d probs when `hasDProbs`). */
  attentionGrad(
    heap: Float32Array,
    qkv: number,
    probs: number,
    dOut: number,
    dProbs: number,
    dqkv: number,
    hasDProbs: boolean,
    n: number,
    t: number,
    heads: number,
    d: number,
    threads: number,
    scale: number,
  ): void;
  permute(heap: Float32Array, x: number, y: number, shape: readonly number[], perm: readonly number[]): void;
  /** t [2m, n] = [Re; Im] of a sparse spectrum's row transforms: count coefficients c at int32 flat positions p of an m × n spectrum; table = [Cn; Sn] [2n, n]. */
  spectralRows(heap: Float32Array, c: number, p: number, table: number, t: number, count: number, m: number, n: number): void;
  /** dc [count] = the row transforms' adjoint at the positions p, from a [2m, n]. */
  spectralRowsGrad(heap: Float32Array, a: number, p: number, table: number, dc: number, count: number, m: number, n: number): void;
}

let loaded: { addon: NativeAddon } | { reason: string } | null = null;

/** The addon `npm ci` built (scripts/buildNative.mjs), or why there is none (not built, PEFT_NATIVE=off). */
export const nativeAddon = (): { addon: NativeAddon } | { reason: string } => {
  if (loaded !== null) return loaded;
  if (process.env.PEFT_NATIVE === "off") return (loaded = { reason: "PEFT_NATIVE=off" });
  try {
    return (loaded = { addon: createRequire(import.meta.url)(join(packageRoot(), "native", "build", "Release", "peft_native.node")) as NativeAddon });
  } catch {
    return (loaded = { reason: "the native addon is not built (npm ci builds it with node-gyp)" });
  }
};
