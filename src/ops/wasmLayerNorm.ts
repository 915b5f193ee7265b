import type * as tf from "@tensorflow/tfjs-core";
import { kernelModule, registerModuleKernel } from "./wasmKernelModule.js";

export const layerNormKernel = "PeftLayerNorm";
export const layerNormGradKernel = "PeftLayerNormGrad";

/** Rows are split across two threads from this many elements on. */
const splitFrom = 1 << 15;

/**
 * Register LayerNorm over the last axis and its gradient (dx, dγ, dβ), fused, on the wasm backend
 * (kernels/layerNorm.wasm), each over two threads by rows: the helper sums its rows' dγ, dβ into
 * scratch, added to ours after.
 */
export const installWasmLayerNorm = (): void => {
  const kernel = kernelModule("layerNorm", { helper: true });
  const eps = (attrs: tf.NamedAttrMap) => attrs.eps as number;
  registerModuleKernel(kernel, layerNormKernel, {
    inputs: (i) => [i.x!, i.gamma!, i.beta!],
    run: (k, [x, gamma, beta, y], [[rows, d]], attrs) => {
      if (rows! * d! < splitFrom) return k.exports.layer_norm_forward!(x!, gamma!, beta!, y!, rows!, d!, eps(attrs));
      const [half, skip] = [Math.floor(rows! / 2), 4 * Math.floor(rows! / 2) * d!];
      k.split("layer_norm_forward", [x!, gamma!, beta!, y!, half, d!, eps(attrs)], [x! + skip, gamma!, beta!, y! + skip, rows! - half, d!, eps(attrs)]);
    },
  });
  registerModuleKernel(kernel, layerNormGradKernel, {
    inputs: (i) => [i.x!, i.gamma!, i.dy!],
    outputs: ([shape]) => [[...shape], [shape[1]!], [shape[1]!]],
    scratch: ([shape]) => 2 * shape[1]!,
    run: (k, [x, gamma, dy, dx, dgamma, dbeta, scratch], [[rows, d]], attrs) => {
      if (rows! * d! < splitFrom) return k.exports.layer_norm_backward!(x!, gamma!, dy!, dx!, dgamma!, dbeta!, rows!, d!, eps(attrs));
      const [half, skip] = [Math.floor(rows! / 2), 4 * Math.floor(rows! / 2) * d!];
      k.split(
        "layer_norm_backward",
        [x!, gamma!, dy!, dx!, dgamma!, dbeta!, half, d!, eps(attrs)],
        [x! + skip, gamma!, dy! + skip, dx! + skip, scratch!, scratch! + 4 * d!, rows! - half, d!, eps(attrs)],
      );
      const [ours, theirs] = [
        [k.read(dgamma!, d!), k.read(scratch!, d!)],
        [k.read(dbeta!, d!), k.read(scratch! + 4 * d!, d!)],
      ];
      for (const [sum, part] of [ours, theirs]) for (let j = 0; j < d!; j++) sum![j]! += part![j]!;
    },
  });
};
