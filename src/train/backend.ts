import * as tf from "@tensorflow/tfjs-core";
import { Context, Data, Effect, Layer } from "effect";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { availableParallelism } from "node:os";
import { enableWasmThreads, unrefWasmThreads } from "./wasmThreads.js";
import { installWasmBatchMatMul } from "../ops/wasmBatchMatMul.js";
import { geluKernel, installWasmGelu } from "../ops/wasmGelu.js";
import { installWasmLayerNorm } from "../ops/wasmLayerNorm.js";
import { installWasmPermute } from "../ops/wasmPermute.js";
import { installWasmSharedIdentity } from "../ops/wasmSharedIdentity.js";
import { installWasmSlice } from "../ops/wasmSlice.js";
import { guardWasmHeap } from "../ops/wasmHeapGuard.js";
import { openBlas } from "../ops/openBlas.js";
import { nativeAddon } from "../ops/nativeAddon.js";
import { installWasmNativeKernels } from "../ops/wasmNativeKernels.js";
import { installWasmBlasMatMul } from "../ops/wasmBlasMatMul.js";
import { installWasmBlasAffine } from "../ops/wasmBlasAffine.js";
import { installWasmAttention } from "../ops/wasmAttention.js";
import { installWebGpuFused } from "../ops/webgpuFused.js";

/** What runs the wasm backend's matmuls, GELU and LayerNorm, said in its backend line. */
let wasmKernelsLine = "";

/**
 * Our compiled kernels for what tfjs's wasm backend does slowly (kernels/); where the native addon
 * built (native/), GELU and LayerNorm through it, and matmuls through the system's BLAS where it
 * loads one; once per process (registrations outlive the backend).
 */
const installWasmKernels = (threads: number): string => {
  if (tf.getKernel(geluKernel, "wasm") !== undefined) return wasmKernelsLine;
  installWasmBatchMatMul();
  installWasmGelu();
  installWasmLayerNorm();
  installWasmPermute();
  installWasmSharedIdentity();
  installWasmSlice();
  const native = nativeAddon();
  if ("addon" in native) installWasmNativeKernels(native.addon, threads);
  const blas = openBlas(threads);
  if (blas.loaded) {
    installWasmBlasMatMul(blas);
    installWasmBlasAffine(blas);
    if ("addon" in native) installWasmAttention(native.addon, blas);
  }
  return (wasmKernelsLine = [
    blas.loaded ? `matmul: ${blas.description}` : `matmul: wasm kernels, no BLAS (${blas.reason})`,
    `GELU, LayerNorm: ${"addon" in native ? `native (${native.addon.march()})` : "wasm kernels"}`,
  ].join("; "));
};

export const backendNames = ["auto", "gpu", "node", "webgpu", "wasm", "cpu"] as const;
export type BackendName = (typeof backendNames)[number];

export class BackendUnavailable extends Data.TaggedError("BackendUnavailable")<{ readonly backend: string; readonly reason: string }> {
  override get message() {
    return `backend ${this.backend} is unavailable: ${this.reason}`;
  }
}

const require = createRequire(import.meta.url);

/** Threads of the wasm backend: PEFT_WASM_THREADS, else every core (a sweep gives each worker its share). */
export const wasmThreads = (): number => {
  const raw = process.env.PEFT_WASM_THREADS;
  const n = raw === undefined ? availableParallelism() : Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 8) : 1;
};

/** Import a package by name at run time, so optional backends stay optional. */
const importOptional = async (pkg: string, hint: string): Promise<unknown> => {
  try {
    return await import(pkg);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" ? "not installed" : (e as Error).message.split("\n")[0];
    throw new Error(`${pkg} ${why}; ${hint}`);
  }
};

const activate = async (name: string): Promise<void> => {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
};

const loaders: Record<Exclude<BackendName, "auto">, () => Promise<string>> = {
  gpu: async () => {
    await importOptional("@tensorflow/tfjs-node-gpu", "it needs CUDA 11.2 + cuDNN 8 and network access at install (see README, Backends)");
    await activate("tensorflow");
    return "gpu (tfjs-node-gpu)";
  },
  node: async () => {
    await importOptional("@tensorflow/tfjs-node", "install it with `npm install @tensorflow/tfjs-node` (needs network access to fetch libtensorflow)");
    await activate("tensorflow");
    return "node (tfjs-node)";
  },
  webgpu: async () => {
    const hint = "install `@tensorflow/tfjs-backend-webgpu` and `webgpu` (Dawn), and a Vulkan driver";
    const dawn = (await importOptional("webgpu", hint)) as { create: (flags: string[]) => unknown; globals: object };
    Object.assign(globalThis, dawn.globals);
    Object.defineProperty(globalThis, "navigator", { value: { gpu: dawn.create([]) }, configurable: true });
    await importOptional("@tensorflow/tfjs-backend-webgpu", hint);
    await activate("webgpu");
    // tfjs runs small ops on the CPU when their inputs are there, and uploads the result: a
    // frozen weight's broadcast (the class token's) would be an upload every step.
    Object.assign(tf.backend(), { shouldExecuteOnCPU: () => false });
    installWebGpuFused();
    return "webgpu (Dawn)";
  },
  wasm: async () => {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(`${join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist")}/`);
    const threads = wasmThreads();
    if (threads === 1) {
      await activate("wasm");
      guardWasmHeap(tf.backend());
      return `wasm (SIMD, 1 thread; ${installWasmKernels(1)})`;
    }
    wasm.setThreadsCount(threads);
    const restore = enableWasmThreads(threads);
    try {
      await activate("wasm");
    } finally {
      restore();
    }
    guardWasmHeap(tf.backend());
    const matmul = installWasmKernels(threads);
    unrefWasmThreads((tf.backend() as unknown as { wasm: unknown }).wasm);
    return `wasm (SIMD, ${wasm.getThreadsCount()} threads; ${matmul})`;
  },
  cpu: async () => {
    const cpu = await import("@tensorflow/tfjs-backend-cpu");
    // Registered on first import; again after a release (a second run in one process).
    if (tf.findBackendFactory("cpu") === null) tf.registerBackend("cpu", () => new cpu.MathBackendCPU(), 1);
    await activate("cpu");
    // The cpu backend advertises tfjs-node on first use; the choice is already printed.
    Object.assign(tf.backend(), { firstUse: false });
    return "cpu (plain JS)";
  },
};

/** Initialise a tfjs backend; `auto` takes the first that loads of gpu, node, wasm, cpu. */
export const loadBackend = async (name: BackendName): Promise<string> => {
  if (name !== "auto") return loaders[name]();
  const reasons: string[] = [];
  for (const candidate of ["gpu", "node", "wasm", "cpu"] as const) {
    try {
      return await loaders[candidate]();
    } catch (e) {
      reasons.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no backend loaded (${reasons.join("; ")})`);
};

/** The wasm backend's heap size in bytes (it only grows, so this is its peak), or null on another backend. */
export const wasmHeapBytes = (): number | null => (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.buffer.byteLength ?? null;

/** Release the backend (wasm worker threads would otherwise keep the process alive). */
export const releaseBackend = async (): Promise<void> => {
  const name = tf.getBackend();
  if (name) tf.removeBackend(name);
};

/** The tfjs backend a run uses, as an Effect service. */
export class TfBackend extends Context.Service<TfBackend, { readonly description: string }>()("peft-dsl/TfBackend") {}

export const tfBackendLayer = (name: BackendName) =>
  Layer.effect(
    TfBackend,
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => loadBackend(name),
        catch: (e) => new BackendUnavailable({ backend: name, reason: (e as Error).message }),
      }).pipe(Effect.map((description) => ({ description }))),
      () => Effect.promise(releaseBackend),
    ),
  );
