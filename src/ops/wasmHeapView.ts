import type * as tf from "@tensorflow/tfjs-core";

/** What the native kernels use of tfjs's wasm backend. */
export interface WasmHeapBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: "float32" | "int32"): tf.TensorInfo;
}

/**
 * A reader of the wasm heap as floats with a tensor's byte offset in it, for a native kernel to
 * call once its outputs are made: making them may grow the heap, which replaces its buffer (a
 * view is made again only then).
 */
export const wasmHeapView = () => {
  let view: Float32Array | null = null;
  return (backend: WasmHeapBackend) => {
    const buffer = backend.wasm.HEAPU8.buffer;
    if (view?.buffer !== buffer) view = new Float32Array(buffer);
    // Emscripten's heap addresses past 2 GiB read negative as int32.
    return { heap: view, at: (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset >>> 0 };
  };
};
