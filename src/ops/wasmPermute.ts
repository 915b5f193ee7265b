import { kernelModule, registerModuleKernel } from "./wasmKernelModule.js";

export const scatter2Kernel = "PeftScatter2";
export const gather2Kernel = "PeftGather2";

/** Register S²FT's matrix permutation and its gradient on the wasm backend (kernels/permute.wasm). */
export const installWasmPermute = (): void => {
  const kernel = kernelModule("permute");
  for (const [name, fn] of [
    [scatter2Kernel, "scatter2"],
    [gather2Kernel, "gather2"],
  ] as const) {
    registerModuleKernel(kernel, name, {
      inputs: (i) => [i.x!, i.rows!, i.cols!],
      run: (k, [x, rows, cols, y], [[m, n]]) => k.exports[fn]!(x!, rows!, cols!, y!, m!, n!),
    });
  }
};
