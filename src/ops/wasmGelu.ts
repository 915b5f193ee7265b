import * as tf from "@tensorflow/tfjs-core";
import { kernelModule, type WasmTensors } from "./wasmKernelModule.js";

export const geluKernel = "PeftGelu";
export const geluGradKernel = "PeftGeluGrad";

/** Register exact GELU and its gradient, fused, on the wasm backend (kernels/gelu.wasm). */
export const installWasmGelu = (): void => {
  const kernel = kernelModule("gelu");
  const elementwise = (name: string, run: (offsets: number[], n: number) => void, inputs: (i: tf.NamedTensorInfoMap) => tf.TensorInfo[]) =>
    tf.registerKernel({
      kernelName: name,
      backendName: "wasm",
      kernelFunc: (args) => {
        const backend = args.backend as unknown as WasmTensors;
        const ins = inputs(args.inputs as tf.NamedTensorInfoMap);
        const n = ins[0]!.shape.reduce((a, b) => a * b, 1);
        const offsets = kernel.stage(ins.map((t) => backend.typedArrayFromHeap(t)), [n]);
        run(offsets, n);
        const out = backend.makeOutput([...ins[0]!.shape], "float32");
        backend.typedArrayFromHeap(out).set(kernel.read(offsets.at(-1)!, n));
        return out;
      },
    });
  elementwise(geluKernel, ([x, y], n) => kernel.exports.gelu_forward!(x!, y!, n), (i) => [i.x!]);
  elementwise(geluGradKernel, ([x, dy, dx], n) => kernel.exports.gelu_backward!(x!, dy!, dx!, n), (i) => [i.x!, i.dy!]);
};
