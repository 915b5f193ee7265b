import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { kernelModule, moduleKernelFunc } from "../../src/ops/wasmKernelModule.js";
import { guardWasmHeap, WasmHeapFull } from "../../src/ops/wasmHeapGuard.js";

describe("kernel scratch above 2 GiB of wasm heap", () => {
  it("an address emscripten's malloc returns as a negative int32 reaches the kernel as the unsigned address", () => {
    // A fake shared-heap backend whose malloc answers as emscripten does for an allocation at 2.5 GiB.
    const at = 2.5 * 2 ** 30;
    const signed = at | 0;
    expect(signed).toBeLessThan(0);
    const freed: number[] = [];
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
    const backend = {
      wasm: { wasmMemory: memory, _malloc: () => signed, _free: (p: number) => freed.push(p) },
      dataIdMap: { get: () => ({ memoryOffset: 64 }) },
      makeOutput: (shape: number[]) => ({ dataId: {}, shape, dtype: "float32" }),
    };
    let seen: number[] = [];
    const func = moduleKernelFunc(kernelModule("layerNorm"), {
      inputs: (i) => [i.x!],
      scratch: () => 16,
      run: (_k, offsets) => {
        seen = offsets;
      },
    });
    func({ inputs: { x: { dataId: {}, shape: [4, 4], dtype: "float32" } }, backend: backend as unknown as tf.KernelBackend, attrs: {} });
    expect(seen.at(-1)).toBe(at);
    expect(freed).toEqual([at]);
  });
});

describe("a wasm heap that cannot grow", () => {
  it("an allocation emscripten's malloc answers with 0 is an error naming the sizes, not a tensor at address 0", () => {
    const backend = { wasm: { _malloc: (n: number) => (n > 1000 ? 0 : 64), HEAPU8: new Uint8Array(16) } };
    guardWasmHeap(backend as unknown as tf.KernelBackend);
    expect(backend.wasm._malloc(8)).toBe(64);
    expect(() => backend.wasm._malloc(50 * 2 ** 20)).toThrow(WasmHeapFull);
    expect(() => backend.wasm._malloc(50 * 2 ** 20)).toThrow(/50\.0 MB more did not fit .*lower schedule\.batchSize/);
  });
});
