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

/** A block of a tensor in the heap: where the tensor starts (in elements), its shape, and the block's first index. */
interface Place {
  readonly base: number;
  readonly shape: readonly number[];
  readonly begin: readonly number[];
}

/**
 * Copies a block of `size` from one tensor to another inside the heap: axes after the last one
 * the block only partly covers in either tensor are whole, so each index of the axes before it
 * is one contiguous run, one `copyWithin`.
 */
const copyBlock = (heap: Int32Array | Uint8Array, from: Place, to: Place, size: readonly number[]): void => {
  const count = tf.util.sizeFromShape([...size]);
  if (count === 0) return;
  const whole = (p: Place, a: number) => size[a] === p.shape[a] && p.begin[a] === 0;
  let inner = size.length - 1;
  let run = size[inner]!;
  while (inner > 0 && whole(from, inner) && whole(to, inner)) {
    inner--;
    run *= size[inner]!;
  }
  const strides = (p: Place) => [...tf.util.computeStrides([...p.shape]), 1];
  const [fs, ts] = [strides(from), strides(to)];
  const start = (p: Place, st: number[], index: readonly number[]) =>
    p.base + p.begin[inner]! * st[inner]! + index.reduce((sum, i, a) => sum + (p.begin[a]! + i) * st[a]!, 0);
  // One contiguous run per index of the axes before `inner` (an odometer over them).
  const index = size.slice(0, inner).map(() => 0);
  for (let row = 0; row < count / run; row++) {
    const src = start(from, fs, index);
    heap.copyWithin(start(to, ts, index), src, src + run);
    for (let a = inner - 1; a >= 0 && ++index[a]! === size[a]; a--) index[a] = 0;
  }
};

const offsetOf = (backend: WasmBackend, t: tf.TensorInfo, bytes: number) => backend.dataIdMap.get(t.dataId).memoryOffset / bytes;

/** The block `begin`/`size` of `x` as a new output, copied inside the heap. */
const sliceInHeap = (backend: WasmBackend, x: tf.TensorInfo, begin: readonly number[], size: readonly number[]): tf.TensorInfo => {
  const bytes = tf.util.bytesPerElement(x.dtype);
  const out = backend.makeOutput([...size], x.dtype);
  const heap = heapOf(backend, bytes);
  copyBlock(
    heap,
    { base: offsetOf(backend, x, bytes), shape: x.shape, begin },
    { base: offsetOf(backend, out, bytes), shape: size, begin: size.map(() => 0) },
    size,
  );
  return out;
};

/** `x` padded with `value`: the output filled, then `x` copied into its place inside the heap. */
const padInHeap = (backend: WasmBackend, x: tf.TensorInfo, paddings: readonly (readonly [number, number])[], value: number): tf.TensorInfo => {
  const bytes = tf.util.bytesPerElement(x.dtype);
  const shape = x.shape.map((d, a) => paddings[a]![0] + d + paddings[a]![1]);
  const out = backend.makeOutput(shape, x.dtype);
  const start = offsetOf(backend, out, bytes);
  const count = tf.util.sizeFromShape(shape);
  const buffer = backend.wasm.HEAPU8.buffer;
  (x.dtype === "float32" ? new Float32Array(buffer) : x.dtype === "int32" ? new Int32Array(buffer) : new Uint8Array(buffer)).fill(value, start, start + count);
  copyBlock(
    heapOf(backend, bytes),
    { base: offsetOf(backend, x, bytes), shape: x.shape, begin: x.shape.map(() => 0) },
    { base: start, shape, begin: paddings.map((p) => p[0]) },
    x.shape,
  );
  return out;
};

/**
 * Slice, SplitV and PadV2 on wasm copy inside the heap. tfjs's wasm Slice first reads the whole
 * input out of the heap (a copy) and then sets one fresh subarray per innermost row: the three
 * slices that split attention's q, k and v took 17 ms of a 208 ms benchmark LoRA step, the split
 * of the fused projection 12 ms. Its C++ Pad (a slice's gradient) failed with "memory access out
 * of bounds" once a ViT-B/16 step's heap passed 2 GiB.
 */
export const installWasmSlice = (): void => {
  const inHeap = (x: tf.TensorInfo) => x.shape.length > 0 && x.dtype !== "string" && [1, 4].includes(tf.util.bytesPerElement(x.dtype));
  /** Register `ours` for `name` on wasm, keeping tfjs's kernel for what stays out of the heap (strings, scalars). */
  const replace = (name: string, ours: (x: tf.TensorInfo, backend: WasmBackend, attrs: tf.NamedAttrMap) => tf.TensorInfo | tf.TensorInfo[]) => {
    const original = tf.getKernel(name, "wasm")!;
    tf.unregisterKernel(name, "wasm");
    tf.registerKernel({
      ...original,
      kernelFunc: (args) =>
        inHeap(args.inputs.x!) ? ours(args.inputs.x!, args.backend as unknown as WasmBackend, args.attrs ?? {}) : original.kernelFunc(args),
    });
  };
  replace("Slice", (x, backend, attrs) => {
    const { begin, size } = attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    return sliceInHeap(backend, x, b, s);
  });
  replace("PadV2", (x, backend, attrs) => {
    const { paddings, constantValue } = attrs as unknown as { paddings: [number, number][]; constantValue: number };
    return padInHeap(backend, x, paddings, constantValue);
  });
  replace("SplitV", (x, backend, attrs) => {
    const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const at = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, at);
    const begin = x.shape.map(() => 0);
    return sizes.map((part) => {
      const out = sliceInHeap(
        backend,
        x,
        begin,
        x.shape.map((d, a) => (a === at ? part : d)),
      );
      begin[at]! += part;
      return out;
    });
  });
};
