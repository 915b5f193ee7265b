import { kernelModule, registerSameShapeKernel } from "./wasmKernelModule.js";

export const geluKernel = "PeftGelu";
export const geluGradKernel = "PeftGeluGrad";

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Register exact GELU and its gradient, fused, on the wasm backend (kernels/gelu.wasm). */
export const installWasmGelu = (): void => {
  const kernel = kernelModule("gelu");
  registerSameShapeKernel(kernel, geluKernel, (i) => [i.x!], ([x, y], shape) => kernel.exports.gelu_forward!(x!, y!, size(shape)));
  registerSameShapeKernel(kernel, geluGradKernel, (i) => [i.x!, i.dy!], ([x, dy, dx], shape) => kernel.exports.gelu_backward!(x!, dy!, dx!, size(shape)));
};
