import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../util/packageRoot.js";

/** What a kernel needs from tfjs's wasm backend: views of its tensors and new outputs. */
export interface WasmTensors {
  readonly typedArrayFromHeap: (t: tf.TensorInfo) => Float32Array | Int32Array;
  readonly makeOutput: (shape: number[], dtype: "float32") => tf.TensorInfo;
}

/**
 * One of our compiled kernels (kernels/<name>.wasm) with its own memory: `stage` copies tfjs
 * tensors into it (growing it as needed) and returns their byte offsets and those of `extra`
 * output buffers of the given float counts; `read` views a staged buffer.
 */
export const kernelModule = (name: string) => {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(join(packageRoot(), "kernels", `${name}.wasm`))));
  const memory = instance.exports.memory as WebAssembly.Memory;
  const base = Math.ceil((instance.exports.__heap_base as WebAssembly.Global).value / 16) * 16;
  return {
    exports: instance.exports as Record<string, (...args: number[]) => void>,
    stage: (inputs: readonly (Float32Array | Int32Array)[], extra: readonly number[]): number[] => {
      const sizes = [...inputs.map((x) => x.length), ...extra];
      const bytes = base + 4 * sizes.reduce((a, b) => a + b, 0);
      if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
      const [floats, ints] = [new Float32Array(memory.buffer), new Int32Array(memory.buffer)];
      const offsets: number[] = [];
      let at = base / 4;
      sizes.forEach((size, i) => {
        const input = inputs[i];
        if (input instanceof Int32Array) ints.set(input, at);
        else if (input !== undefined) floats.set(input, at);
        offsets.push(4 * at);
        at += size;
      });
      return offsets;
    },
    read: (offset: number, length: number): Float32Array => new Float32Array(memory.buffer, offset, length),
  };
};

/**
 * Register `name` on the wasm backend as a call into `kernel`: `inputs` picks the tensors (staged
 * in order, then one buffer per output), `run` gets their byte offsets (outputs last), the first
 * input's shape and the kernel's attributes; `outputs` gives the outputs' shapes from that shape
 * (by default one output of that shape).
 */
export const registerModuleKernel = (
  kernel: ReturnType<typeof kernelModule>, name: string,
  inputs: (i: tf.NamedTensorInfoMap) => tf.TensorInfo[], run: (offsets: number[], shape: readonly number[], attrs: tf.NamedAttrMap) => void,
  outputs: (shape: readonly number[]) => number[][] = (shape) => [[...shape]],
): void => {
  tf.registerKernel({
    kernelName: name,
    backendName: "wasm",
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WasmTensors;
      const ins = inputs(args.inputs as tf.NamedTensorInfoMap);
      const shape = ins[0]!.shape;
      const shapes = outputs(shape);
      const sizes = shapes.map((s) => tf.util.sizeFromShape(s));
      const offsets = kernel.stage(ins.map((t) => backend.typedArrayFromHeap(t)), sizes);
      run(offsets, shape, args.attrs ?? {});
      const outs = shapes.map((s, k) => {
        const out = backend.makeOutput(s, "float32");
        backend.typedArrayFromHeap(out).set(kernel.read(offsets[ins.length + k]!, sizes[k]!));
        return out;
      });
      return outs.length === 1 ? outs[0]! : outs;
    },
  });
};
