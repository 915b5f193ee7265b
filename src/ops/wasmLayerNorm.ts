import { kernelModule, registerModuleKernel } from "./wasmKernelModule.js";

export const layerNormKernel = "PeftLayerNorm";
export const layerNormGradKernel = "PeftLayerNormGrad";

/** Register LayerNorm over the last axis and its gradient (dx, dγ, dβ), fused, on the wasm backend (kernels/layerNorm.wasm). */
export const installWasmLayerNorm = (): void => {
  const kernel = kernelModule("layerNorm");
  const eps = (attrs: Record<string, unknown>) => attrs.eps as number;
  registerModuleKernel(kernel, layerNormKernel, (i) => [i.x!, i.gamma!, i.beta!],
    ([x, gamma, beta, y], [rows, d], attrs) => kernel.exports.layer_norm_forward!(x!, gamma!, beta!, y!, rows!, d!, eps(attrs)));
  registerModuleKernel(kernel, layerNormGradKernel, (i) => [i.x!, i.gamma!, i.dy!],
    ([x, gamma, dy, dx, dgamma, dbeta], [rows, d], attrs) => kernel.exports.layer_norm_backward!(x!, gamma!, dy!, dx!, dgamma!, dbeta!, rows!, d!, eps(attrs)),
    (shape) => [[...shape], [shape[1]!], [shape[1]!]]);
};
