import { createRequire } from "node:module";
import { join } from "node:path";
import { packageRoot } from "../util/packageRoot.js";

/** native/openblas: matrix products through a BLAS library opened at run time. */
interface BlasAddon {
  load(path: string): string;
  setThreads(n: number): void;
  /** c[t] = op(a[t]) op(b[t]) for t < batch on a Float32Array heap; a, b, c in bytes, strides in floats (0 broadcasts). */
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
    /** Half the batch on a second thread. */
    split?: boolean,
  ): void;
}

export type Blas =
  | {
      readonly loaded: true;
      readonly description: string;
      readonly matmul: BlasAddon["matmul"];
      /** The most threads a product may use. */
      readonly threads: number;
      /** Run the next products on `n` threads (OpenBLAS's setting is global; set only when it changes). */
      readonly useThreads: (n: number) => void;
    }
  | { readonly loaded: false; readonly reason: string };

/** Where the addon is looked for: built by `npm ci` (scripts/buildNative.mjs). */
const addonPath = () => join(packageRoot(), "native", "openblas", "build", "Release", "openblas.node");

/** The libraries tried in order: PEFT_BLAS names one (or `off`), else the system's OpenBLAS. */
const candidates = (): string[] => {
  const named = process.env.PEFT_BLAS;
  if (named !== undefined && named !== "") return named === "off" ? [] : [named];
  return process.platform === "darwin" ? ["libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib"] : ["libopenblas.so.0", "libopenblas.so"];
};

let blas: Blas | null = null;

/**
 * The BLAS the wasm backend's matmuls run through, loaded once per process with `threads`
 * threads, or why there is none (the addon did not build, no library, PEFT_BLAS=off); then
 * the pure wasm kernels run.
 */
export const openBlas = (threads: number): Blas => {
  if (blas !== null) return blas;
  const tried = candidates();
  if (tried.length === 0) return (blas = { loaded: false, reason: "PEFT_BLAS=off" });
  let addon: BlasAddon;
  try {
    addon = createRequire(import.meta.url)(addonPath()) as BlasAddon;
  } catch {
    return (blas = { loaded: false, reason: "the native addon is not built (npm ci builds it with node-gyp)" });
  }
  // OpenBLAS's idle threads spin 2^28 cycles before sleeping: on a machine with as many threads
  // as cores that spin starves the GELU and LayerNorm kernels' helper thread between products.
  // 2^4 makes them sleep at once (read when the library loads; a user's setting stands).
  process.env.OPENBLAS_THREAD_TIMEOUT ??= "4";
  const failures: string[] = [];
  for (const path of tried) {
    try {
      const description = addon.load(path).trim();
      // A user's OPENBLAS_NUM_THREADS stands as the most threads.
      const most = Number(process.env.OPENBLAS_NUM_THREADS);
      const max = Number.isInteger(most) && most >= 1 ? most : threads;
      let current = 0;
      const useThreads = (n: number) => {
        if (n !== current) addon.setThreads((current = n));
      };
      useThreads(max);
      return (blas = { loaded: true, description, matmul: addon.matmul, threads: max, useThreads });
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  const hint = process.env.PEFT_BLAS ? "" : "; install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread) or name a BLAS library in PEFT_BLAS";
  return (blas = { loaded: false, reason: failures.join("; ") + hint });
};
