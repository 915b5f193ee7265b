import type { HostTensor } from "./backbone.js";

/** A host tensor with its axes reordered: out axis k is input axis perm[k] (numpy's transpose). */
export const transpose = (t: HostTensor, perm: readonly number[]): HostTensor => {
  const shape = perm.map((p) => t.shape[p]!);
  const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(t.data.length);
  const index = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let from = 0;
    for (let k = 0; k < shape.length; k++) from += index[k]! * strides[perm[k]!]!;
    out[o] = t.data[from]!;
    for (let k = shape.length - 1; k >= 0 && ++index[k]! === shape[k]!; k--) index[k] = 0;
  }
  return { shape, data: out };
};
