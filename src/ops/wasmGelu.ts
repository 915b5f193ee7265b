import * as tf from "@tensorflow/tfjs-core";
import { kernelModule, registerModuleKernel, type ModuleKernelSpec } from "./wasmKernelModule.js";

export const geluKernel = "PeftGelu";
export const geluGradKernel = "PeftGeluGrad";

/** Elementwise work is split across two threads from this many elements on (below, the handoff costs more than it saves). */
const splitFrom = 1 << 15;

/** Register exact GELU and its gradient, fused, on the wasm backend (kernels/gelu.wasm), each on two threads. */
export const installWasmGelu = (): void => {
  const kernel = kernelModule("gelu", { helper: true });
  /** `fn(...buffers, n)` over elements [0, h) here and [h, n) on the helper, h a multiple of 4. */
  const halves =
    (fn: string): ModuleKernelSpec["run"] =>
    (k, buffers, [shape]) => {
      const n = tf.util.sizeFromShape([...shape]);
      if (n < splitFrom) return k.exports[fn]!(...buffers, n);
      const h = 4 * Math.floor(n / 8);
      k.split(fn, [...buffers, h], [...buffers.map((b) => b + 4 * h), n - h]);
    };
  registerModuleKernel(kernel, geluKernel, { inputs: (i) => [i.x!], run: halves("gelu_forward") });
  registerModuleKernel(kernel, geluGradKernel, { inputs: (i) => [i.x!, i.dy!], run: halves("gelu_backward") });
};
