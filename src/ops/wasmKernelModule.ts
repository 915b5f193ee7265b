import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../util/packageRoot.js";
import { kernelHelper } from "./kernelHelper.js";

/** What our kernels use of tfjs's wasm backend. */
interface WasmBackend {
  // wasmMemory: the threaded build's shared heap; the single-threaded build has none.
  readonly wasm: { readonly wasmMemory?: WebAssembly.Memory; _malloc(bytes: number): number; _free(at: number): void };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } };
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
}

/** One instance of a kernel module over one memory, with its helper thread if the module asked for one. */
export interface BoundKernel {
  readonly exports: Record<string, (...args: number[]) => void>;
  /** `fn(...mine)` here and `fn(...theirs)` on the helper thread at once (one after the other without a helper). */
  readonly split: (fn: string, mine: readonly number[], theirs: readonly number[]) => void;
  /** A view of `length` floats from byte `offset`. */
  readonly read: (offset: number, length: number) => Float32Array;
}

/**
 * One of our compiled kernels (kernels/<name>.wasm). It imports its memory, so over tfjs's heap
 * when that is shared (the threaded wasm build) it works on the tensors in place, with a helper
 * thread if asked for; over the single-threaded build's unshared heap it works in a memory of its
 * own, tensors copied in and out, on one thread.
 */
export const kernelModule = (name: string, { helper = false } = {}) => {
  const module = new WebAssembly.Module(readFileSync(join(packageRoot(), "kernels", `${name}.wasm`)));
  // 1 MiB to start; kernels/build.sh links with the 4 GiB maximum tfjs's threaded heap has.
  let own: WebAssembly.Memory | null = null;
  const bound = new WeakMap<WebAssembly.Memory, BoundKernel>();
  // Bytes below the heap base are the module's stack, which its kernels never use; staged buffers start there.
  let heapBase = 0;
  const bind = (memory: WebAssembly.Memory): BoundKernel => {
    const known = bound.get(memory);
    if (known !== undefined) return known;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    heapBase = Math.ceil((instance.exports.__heap_base as WebAssembly.Global).value / 16) * 16;
    const exports = Object.fromEntries(Object.entries(instance.exports).filter(([, f]) => typeof f === "function")) as BoundKernel["exports"];
    // A helper only beside tfjs's own threads: a process asked for one thread gets one.
    const second = helper && memory !== own ? kernelHelper(module, memory, exports) : null;
    const k: BoundKernel = {
      exports,
      split: (fn, mine, theirs) => {
        if (second !== null) return second.split(fn, mine, theirs);
        exports[fn]!(...mine);
        exports[fn]!(...theirs);
      },
      read: (offset, length) => new Float32Array(memory.buffer, offset, length),
    };
    bound.set(memory, k);
    return k;
  };
  const ownMemory = () => (own ??= new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }));
  return {
    bind,
    ownMemory,
    /** Copy `inputs` into the module's own memory (growing it), then room for `extra` buffers of the given float counts: the byte offsets of all, in order. */
    stage: (inputs: readonly (Float32Array | Int32Array)[], extra: readonly number[]): number[] => {
      const memory = ownMemory();
      bind(memory);
      const base = heapBase;
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
  };
};

/** The inputs' shapes, the first always there. */
export type Shapes = readonly [readonly number[], ...(readonly number[])[]];

export interface ModuleKernelSpec {
  /** The tensors the kernel reads, in the order `run` gets their offsets. */
  readonly inputs: (i: tf.NamedTensorInfoMap) => tf.TensorInfo[];
  /** The outputs' shapes (float32) from the inputs' shapes; by default one of the first input's shape. */
  readonly outputs?: (shapes: Shapes) => number[][];
  /** Floats of scratch the kernel needs beyond its outputs (their offset comes last, if any). */
  readonly scratch?: (shapes: Shapes) => number;
  /** The call: byte offsets of the inputs, then the outputs, then the scratch. */
  readonly run: (k: BoundKernel, offsets: number[], shapes: Shapes, attrs: tf.NamedAttrMap) => void;
}

/** A tfjs wasm kernel function that calls into `kernel` as `spec` says. */
export const moduleKernelFunc =
  (kernel: ReturnType<typeof kernelModule>, spec: ModuleKernelSpec): tf.KernelFunc =>
  (args) => {
    const backend = args.backend as unknown as WasmBackend;
    const ins = spec.inputs(args.inputs as tf.NamedTensorInfoMap);
    const shapes = ins.map((t) => t.shape) as unknown as Shapes;
    const outShapes = spec.outputs?.(shapes) ?? [[...shapes[0]]];
    const outs = outShapes.map((s) => backend.makeOutput(s, "float32"));
    const extra = spec.scratch?.(shapes) ?? 0;
    const attrs = args.attrs ?? {};
    const heap = backend.wasm.wasmMemory;
    if (heap?.buffer instanceof SharedArrayBuffer) {
      // Emscripten's malloc returns a signed int32: past 2 GiB of heap the address reads negative (tfjs uses `>>> 0` too).
      const scratch = extra > 0 ? [backend.wasm._malloc(4 * extra) >>> 0] : [];
      spec.run(kernel.bind(heap), [...[...ins, ...outs].map((t) => backend.dataIdMap.get(t.dataId).memoryOffset), ...scratch], shapes, attrs);
      scratch.forEach((at) => backend.wasm._free(at));
    } else {
      const sizes = outShapes.map((s) => tf.util.sizeFromShape(s));
      const offsets = kernel.stage(
        ins.map((t) => backend.typedArrayFromHeap(t)),
        extra > 0 ? [...sizes, extra] : sizes,
      );
      const k = kernel.bind(kernel.ownMemory());
      spec.run(k, offsets, shapes, attrs);
      outs.forEach((out, i) => backend.typedArrayFromHeap(out).set(k.read(offsets[ins.length + i]!, sizes[i]!)));
    }
    return outs.length === 1 ? outs[0]! : outs;
  };

/** Register `name` on the wasm backend as a call into `kernel`. */
export const registerModuleKernel = (kernel: ReturnType<typeof kernelModule>, name: string, spec: ModuleKernelSpec): void => {
  tf.registerKernel({ kernelName: name, backendName: "wasm", kernelFunc: moduleKernelFunc(kernel, spec) });
};
