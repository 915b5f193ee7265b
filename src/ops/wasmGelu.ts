import * as tf from "@tensorflow/tfjs-core";
import { kernelModule, registerModuleKernel } from "./wasmKernelModule.js";

export const geluKernel = "PeftGelu";
export const geluGradKernel = "PeftGeluGrad";

/** Register exact GELU and its gradient, fused, on the wasm backend (kernels/gelu.wasm). */
export const installWasmGelu = (): void => {
  const kernel = kernelModule("gelu");
  registerModuleKernel(kernel, geluKernel, (i) => [i.x!], ([x, y], shape) => kernel.exports.gelu_forward!(x!, y!, tf.util.sizeFromShape([...shape])));
  registerModuleKernel(kernel, geluGradKernel, (i) => [i.x!, i.dy!], ([x, dy, dx], shape) => kernel.exports.gelu_backward!(x!, dy!, dx!, tf.util.sizeFromShape([...shape])));
};
