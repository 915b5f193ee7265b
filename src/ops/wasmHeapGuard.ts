import type * as tf from "@tensorflow/tfjs-core";

/** The wasm heap could not grow for an allocation: the batch does not fit in wasm32's 4 GiB. */
export class WasmHeapFull extends Error {
  override readonly name = "WasmHeapFull";
  constructor(
    readonly requested: number,
    readonly heap: number,
  ) {
    super(
      `the wasm heap is full: ${(requested / 2 ** 20).toFixed(1)} MB more did not fit beside ${(heap / 2 ** 30).toFixed(2)} GiB (wasm32 holds at most 4 GiB); lower schedule.batchSize`,
    );
  }
}

interface WasmModule {
  _malloc(bytes: number): number;
  HEAPU8: Uint8Array;
}

/**
 * Make a failed allocation an error. Emscripten's malloc answers 0 when the heap cannot grow, and
 * tfjs's wasm backend writes the tensor at address 0 regardless: past the ceiling a ViT-B/16
 * step corrupted the allocator's own state (minutes inside free(), or an out-of-bounds access).
 */
export const guardWasmHeap = (backend: tf.KernelBackend): void => {
  const wasm = (backend as unknown as { wasm: WasmModule }).wasm;
  const malloc = wasm._malloc.bind(wasm);
  wasm._malloc = (bytes: number) => {
    const at = malloc(bytes);
    if (at === 0 && bytes > 0) throw new WasmHeapFull(bytes, wasm.HEAPU8.buffer.byteLength);
    return at;
  };
};
