import { nativeAddon, type NativeAddon } from "./nativeAddon.js";

export type Blas =
  | {
      readonly loaded: true;
      readonly description: string;
      readonly matmul: NativeAddon["matmul"];
      readonly gemm: NativeAddon["gemm"];
      /** The most threads a product may use. */
      readonly threads: number;
      /** Run the next products on `n` threads (OpenBLAS's setting is global; set only when it changes). */
      readonly useThreads: (n: number) => void;
    }
  | { readonly loaded: false; readonly reason: string };

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
  const native = nativeAddon();
  if ("reason" in native) return (blas = { loaded: false, reason: native.reason });
  const { addon } = native;
  // OpenBLAS's idle threads spin 2^28 cycles before sleeping: on a machine with as many threads
  // as cores that spin starves the wasm pool and our kernels' helper thread between products.
  // 2^4 makes them sleep at once (read when the library loads; a user's setting stands).
  process.env.OPENBLAS_THREAD_TIMEOUT ??= "4";
  const failures: string[] = [];
  for (const path of tried) {
    try {
      const description = addon.blasLoad(path).trim();
      // A user's OPENBLAS_NUM_THREADS stands as the most threads.
      const most = Number(process.env.OPENBLAS_NUM_THREADS);
      const max = Number.isInteger(most) && most >= 1 ? most : threads;
      let current = 0;
      const useThreads = (n: number) => {
        if (n !== current) addon.blasSetThreads((current = n));
      };
      useThreads(max);
      return (blas = { loaded: true, description, matmul: addon.matmul, gemm: addon.gemm, threads: max, useThreads });
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  const hint = process.env.PEFT_BLAS ? "" : "; install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread) or name a BLAS library in PEFT_BLAS";
  return (blas = { loaded: false, reason: failures.join("; ") + hint });
};
