import * as tf from "@tensorflow/tfjs-core";

export interface Block {
  /** [start, end) along the axis, or null for the whole extent. */
  readonly range: readonly [number, number] | null;
  readonly value: tf.Tensor2D;
}

/**
 * Lay blocks along one axis of a [*, *] result of extent `total`, zeros in the gaps (wasm has
 * no Pad kernel, so this concatenates). Blocks covering the same range are summed first.
 */
export const placeBlocks = (blocks: readonly Block[], total: number, axis: 0 | 1, other: number): tf.Tensor2D => {
  const byRange = new Map<string, Block>();
  for (const b of blocks) {
    const key = b.range === null ? "all" : b.range.join(":");
    const prev = byRange.get(key);
    byRange.set(key, prev ? { range: b.range, value: tf.add(prev.value, b.value) } : b);
  }
  const whole = byRange.get("all");
  const parts = [...byRange.values()].filter((b) => b.range !== null).sort((a, b) => a.range![0] - b.range![0]);
  // Filled on the device: tf.zeros makes them on the host (an upload on webgpu).
  const zeros = (n: number) => tf.fill(axis === 0 ? [n, other] : [other, n], 0) as tf.Tensor2D;
  let placed: tf.Tensor2D | undefined;
  if (parts.length > 0) {
    const pieces: tf.Tensor2D[] = [];
    let at = 0;
    for (const p of parts) {
      if (p.range![0] > at) pieces.push(zeros(p.range![0] - at));
      pieces.push(p.value);
      at = p.range![1];
    }
    if (at < total) pieces.push(zeros(total - at));
    placed = pieces.length === 1 ? pieces[0]! : tf.concat(pieces, axis);
  }
  if (whole && placed) return tf.add(whole.value, placed);
  return (whole?.value ?? placed)!;
};
