import * as tf from "@tensorflow/tfjs-core";
import { attentionGradKernel, attentionKernel } from "./attention.js";
import type { NativeAddon } from "./nativeAddon.js";
import type { Blas } from "./openBlas.js";
import { wasmHeapView, type WasmHeapBackend } from "./wasmHeapView.js";

interface AttentionAttrs {
  readonly n: number;
  readonly t: number;
  readonly heads: number;
}

/**
 * Attention as one kernel and its gradient as another on the wasm backend (native/attention.c):
 * q, k, v read in place from qkv, images·heads shared among the BLAS's threads with each product
 * on one of them.
 */
export const installWasmAttention = (addon: NativeAddon, blas: Extract<Blas, { loaded: true }>): void => {
  const heapOf = wasmHeapView();
  const shape = (qkv: tf.TensorInfo, heads: number) => {
    const w = qkv.shape[1]! / 3;
    return { w, d: w / heads, scale: 1 / Math.sqrt(w / heads) };
  };
  tf.registerKernel({
    kernelName: attentionKernel,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { qkv } = inputs as { qkv: tf.TensorInfo };
      const { n, t, heads } = attrs as unknown as AttentionAttrs;
      const { w, d, scale } = shape(qkv, heads);
      const b = backend as unknown as WasmHeapBackend;
      const [out, probs] = [b.makeOutput([n * t, w], "float32"), b.makeOutput([n * heads, t, t], "float32")];
      const { heap, at } = heapOf(b);
      addon.attention(heap, at(qkv), at(out), at(probs), n, t, heads, d, blas.threads, scale);
      return [out, probs];
    },
  });
  tf.registerKernel({
    kernelName: attentionGradKernel,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { qkv, probs, dOut, dProbs } = inputs as Record<string, tf.TensorInfo>;
      const { n, t, heads } = attrs as unknown as AttentionAttrs;
      const { d, scale } = shape(qkv!, heads);
      const b = backend as unknown as WasmHeapBackend;
      const dqkv = b.makeOutput([...qkv!.shape], "float32");
      const { heap, at } = heapOf(b);
      addon.attentionGrad(
        heap,
        at(qkv!),
        at(probs!),
        at(dOut!),
        dProbs === undefined ? 0 : at(dProbs),
        at(dqkv),
        dProbs !== undefined,
        n,
        t,
        heads,
        d,
        blas.threads,
        scale,
      );
      return dqkv;
    },
  });
};
