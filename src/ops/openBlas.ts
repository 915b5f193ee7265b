import { nativeAddon, type NativeAddon } from "./nativeAddon.js";

export type Blas =
  | {
      readonly loaded: true;
      readonly description: string;
      readonly matmul: NativeAddon["matmul"];
      readonly gemm: NativeAddon["gemm"];
      /** The threads a tiled product, or a batch of products, is shared among. */
      readonly threads: number;
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
  // OpenBLAS runs on one thread (read when the library loads): the addon shares a product's tiles
  // among threads itself, cut by the shape alone, so the sums do not depend on the thread count.
  process.env.OPENBLAS_NUM_THREADS = "1";
  // OpenBLAS picks its kernels by CPU (SkylakeX, Cooperlake, Zen…), and each sums a product in
  // its own order: the same run then ends a point of accuracy apart on two machines. Where our
  // kernels are built for x86-64-v3, OpenBLAS runs its kernels for that instruction set too
  // (Haswell's, which Zen also runs), so every such CPU computes the same numbers. A user's
  // OPENBLAS_CORETYPE stands; the backend line names the kernels that run.
  if (native.addon.march() === "x86-64-v3") process.env.OPENBLAS_CORETYPE ??= "Haswell";
  const failures: string[] = [];
  for (const path of tried) {
    try {
      const description = addon.blasLoad(path).trim();
      return (blas = { loaded: true, description, matmul: addon.matmul, gemm: addon.gemm, threads });
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  const hint = process.env.PEFT_BLAS ? "" : "; install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread) or name a BLAS library in PEFT_BLAS";
  return (blas = { loaded: false, reason: failures.join("; ") + hint });
};
