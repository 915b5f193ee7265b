import * as tf from "@tensorflow/tfjs-core";

interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** A view of the whole wasm heap in elements of `bytes` bytes (copyWithin copies bits, whatever the dtype). */
const heapOf = (backend: WasmBackend, bytes: number) => {
  const buffer = backend.wasm.HEAPU8.buffer;
  return bytes === 4 ? new Int32Array(buffer) : new Uint8Array(buffer);
};

/**
 * Copies the block `begin`/`size` of `x` into a new output inside the heap: the axes after the
 * last partly taken one are whole, so each index of the axes before it is one contiguous run, one
 * `copyWithin`.
 */
const sliceInHeap = (backend: WasmBackend, x: tf.TensorInfo, begin: readonly number[], size: readonly number[]): tf.TensorInfo => {
  const bytes = tf.util.bytesPerElement(x.dtype);
  const out = backend.makeOutput([...size], x.dtype);
  const count = tf.util.sizeFromShape([...size]);
  if (count === 0) return out;
  let inner = x.shape.length - 1;
  let run = size[inner]!;
  while (inner > 0 && size[inner] === x.shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner]!;
  }
  const strides = tf.util.computeStrides([...x.shape]);
  const stride = (axis: number) => (axis === x.shape.length - 1 ? 1 : strides[axis]!);
  const heap = heapOf(backend, bytes);
  const xBase = backend.dataIdMap.get(x.dataId).memoryOffset / bytes;
  let dst = backend.dataIdMap.get(out.dataId).memoryOffset / bytes;
  // One contiguous run per index of the axes before `inner` (an odometer over them).
  const index = size.slice(0, inner).map(() => 0);
  for (let row = 0; row < count / run; row++) {
    let src = xBase + begin[inner]! * stride(inner);
    for (let a = 0; a < inner; a++) src += (begin[a]! + index[a]!) * stride(a);
    heap.copyWithin(dst, src, src + run);
    dst += run;
    for (let a = inner - 1; a >= 0 && ++index[a]! === size[a]; a--) index[a] = 0;
  }
  return out;
};

/**
 * Slice and SplitV on wasm copy inside the heap. tfjs's wasm Slice first reads the whole input
 * out of the heap (a copy) and then sets one fresh subarray per innermost row: the three slices
 * that split attention's q, k and v took 17 ms of a 208 ms benchmark LoRA step, the split of
 * the fused projection 12 ms.
 */
export const installWasmSlice = (): void => {
  const inHeap = (x: tf.TensorInfo) => x.shape.length > 0 && x.dtype !== "string" && [1, 4].includes(tf.util.bytesPerElement(x.dtype));
  /** Register `ours` for `name` on wasm, keeping tfjs's kernel for what stays out of the heap (strings, scalars). */
  const replace = (name: string, ours: (x: tf.TensorInfo, backend: WasmBackend, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[]) => {
    const original = tf.getKernel(name, "wasm")!;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => (inHeap(args.inputs.x!) ? ours(args.inputs.x!, args.backend as unknown as WasmBackend, args.attrs ?? {}) : original.kernelFunc(args)),
    });
  };
  replace("Slice", (x, backend, attrs) => {
    const { begin, size } = attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    return sliceInHeap(backend, x, b, s);
  });
  replace("SplitV", (x, backend, attrs) => {
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const at = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, at);
    const begin = x.shape.map(() => 0);
    return sizes.map((part) => {
      const out = sliceInHeap(backend, x, begin, x.shape.map((d, a) => (a === at ? part : d)));
      begin[at]! += part;
      return out;
    });
  });
};
