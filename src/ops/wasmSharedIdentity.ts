import * as tf from "@tensorflow/tfjs-core";

interface RefCounting {
  incRef(dataId: object): void;
}

/**
 * Identity and same-dtype Cast on wasm share the input's buffer (a reference count, as tfjs's
 * own wasm Reshape and the cpu backend's Identity do) instead of copying it. The tape clones
 * every tensor a gradient saves, so tfjs's copying Identity moved ~110 MB per benchmark LoRA
 * step; tfjs never writes into a buffer after a kernel made it, so sharing is safe.
 */
export const installWasmSharedIdentity = (): void => {
  const cast = tf.getKernel("Cast", "wasm")!;
  const share = (x: tf.TensorInfo, backend: RefCounting): tf.TensorInfo => {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel("Identity", "wasm");
  tf.registerKernel({ kernelName: "Identity", backendName: "wasm", kernelFunc: ({ inputs, backend }) => share(inputs.x!, backend as unknown as RefCounting) });
  tf.unregisterKernel("Cast", "wasm");
  tf.registerKernel({
    ...cast,
    kernelFunc: (args) =>
      args.inputs.x!.dtype === (args.attrs as { dtype: tf.DataType }).dtype
        ? share(args.inputs.x!, args.backend as unknown as RefCounting)
        : cast.kernelFunc(args),
  });
};
