import * as tf from "@tensorflow/tfjs-core";
import type { NativeAddon } from "./nativeAddon.js";
import { geluGradKernel, geluKernel } from "./wasmGelu.js";
import { layerNormGradKernel, layerNormKernel } from "./wasmLayerNorm.js";
import { wasmHeapView, type WasmHeapBackend } from "./wasmHeapView.js";
import { spectralRowsGradKernel, spectralRowsKernel } from "./spectralDelta.js";

/** A kernel given its inputs, a maker of outputs, and the heap with tensors' byte offsets in it, asked for once the outputs are made (making them may grow the heap). */
type NativeKernel = (
  inputs: Record<string, tf.TensorInfo>,
  output: (shape: number[]) => tf.TensorInfo,
  onHeap: () => { heap: Float32Array; at: (t: tf.TensorInfo) => number },
  attrs: Record<string, number>,
) => tf.TensorInfo | tf.TensorInfo[];

/**
 * GELU and LayerNorm with their gradients on the wasm backend through the native addon
 * (native/gelu.c, native/layerNorm.c), in place on tfjs's heap, instead of kernels/gelu.wasm
 * and kernels/layerNorm.wasm: the same formulas at the CPU's own vector width (AVX-512 here
 * against wasm's 128 bits; GELU on [1040, 768] on one thread 5.0 → ~0.9 ms). Transposes that
 * keep the last axis last (native/transpose.c) too, others keep tfjs's kernel; and a sparse
 * spectrum's row transforms (native/spectral.c).
 */
export const installWasmNativeKernels = (addon: NativeAddon, threads: number): void => {
  const heapOf = wasmHeapView();
  const register = (kernelName: string, kernel: NativeKernel) => {
    if (tf.getKernel(kernelName, "wasm") !== undefined) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: (args) => {
        const backend = args.backend as unknown as WasmHeapBackend;
        const heap = () => heapOf(backend);
        const output = (shape: number[]) => backend.makeOutput(shape, "float32");
        return kernel(args.inputs as Record<string, tf.TensorInfo>, output, heap, (args.attrs ?? {}) as Record<string, number>);
      },
    });
  };
  const size = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);
  register(geluKernel, ({ x }, output, onHeap) => {
    const y = output([...x!.shape]);
    const { heap, at } = onHeap();
    addon.gelu(heap, at(x!), at(y), size(x!), threads);
    return y;
  });
  register(geluGradKernel, ({ x, dy }, output, onHeap) => {
    const dx = output([...x!.shape]);
    const { heap, at } = onHeap();
    addon.geluGrad(heap, at(x!), at(dy!), at(dx), size(x!), threads);
    return dx;
  });
  register(layerNormKernel, ({ x, gamma, beta }, output, onHeap, { eps }) => {
    const [rows, d] = x!.shape as [number, number];
    const y = output([rows, d]);
    const { heap, at } = onHeap();
    addon.layerNorm(heap, at(x!), at(gamma!), at(beta!), at(y), rows, d, eps!);
    return y;
  });
  register(layerNormGradKernel, ({ x, gamma, dy }, output, onHeap, { eps }) => {
    const [rows, d] = x!.shape as [number, number];
    const [dx, dgamma, dbeta] = [output([rows, d]), output([d]), output([d])];
    const { heap, at } = onHeap();
    addon.layerNormGrad(heap, at(x!), at(gamma!), at(dy!), at(dx), at(dgamma), at(dbeta), rows, d, eps!);
    return [dx, dgamma, dbeta];
  });
  register(spectralRowsKernel, ({ values, positions, table }, output, onHeap, { m, n }) => {
    const t = output([2 * m!, n!]);
    const { heap, at } = onHeap();
    addon.spectralRows(heap, at(values!), at(positions!), at(table!), at(t), size(values!), m!, n!);
    return t;
  });
  register(spectralRowsGradKernel, ({ a, positions, table }, output, onHeap, { m, n }) => {
    const dc = output([size(positions!)]);
    const { heap, at } = onHeap();
    addon.spectralRowsGrad(heap, at(a!), at(positions!), at(table!), at(dc), size(positions!), m!, n!);
    return dc;
  });
  const transpose = tf.getKernel("Transpose", "wasm")!;
  tf.unregisterKernel("Transpose", "wasm");
  tf.registerKernel({
    ...transpose,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      const perm = args.attrs!.perm as number[];
      const last = x.shape.length - 1;
      if ((x.dtype !== "float32" && x.dtype !== "int32") || last < 1 || perm[last] !== last) return transpose.kernelFunc(args);
      const backend = args.backend as unknown as WasmHeapBackend;
      const y = backend.makeOutput(
        perm.map((a) => x.shape[a]!),
        x.dtype,
      );
      const { heap, at } = heapOf(backend);
      addon.permute(heap, at(x), at(y), x.shape, perm);
      return y;
    },
  });
};
