/** The parts of the PFFFT emscripten module that hostFft.ts uses. */
declare module "@echogarden/pffft-wasm/simd" {
  interface PffftModule {
    readonly HEAPF32: Float32Array;
    _pffft_new_setup(n: number, transform: number): number;
    _pffft_aligned_malloc(bytes: number): number;
    _pffft_aligned_free(ptr: number): void;
    _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
  }
  const factory: () => Promise<PffftModule>;
  export default factory;
}
