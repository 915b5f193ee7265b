import type { VitConfig } from "../models/vitConfig.js";
import { rng, shuffled } from "../util/random.js";

/** Model-ready examples: NHWC float32 images and integer labels. */
export interface Dataset {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
  /** [height, width, channels] of one image. */
  readonly shape: readonly [number, number, number];
}

export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

/** The examples at `indices`, in that order. */
export const gather = (ds: Dataset, indices: readonly number[]): Batch => {
  const size = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  indices.forEach((i, k) => {
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i]!;
  });
  return { images, labels, count: indices.length };
};

/** One epoch's mini-batches in a seeded order (seed, epoch): a resumed run replays the same order. */
export const epochBatches = (ds: Dataset, batchSize: number, seed: number, epoch: number): Batch[] => {
  const order = shuffled(Array.from({ length: ds.count }, (_, i) => i), rng(seed, `epoch:${epoch}`));
  const out: Batch[] = [];
  for (let at = 0; at < order.length; at += batchSize) out.push(gather(ds, order.slice(at, at + batchSize)));
  return out;
};

/** Consecutive batches in dataset order, for evaluation. */
export const inOrder = (ds: Dataset, batchSize: number): Batch[] => {
  const out: Batch[] = [];
  for (let at = 0; at < ds.count; at += batchSize) {
    out.push(gather(ds, Array.from({ length: Math.min(batchSize, ds.count - at) }, (_, i) => at + i)));
  }
  return out;
};

export const batchesPerEpoch = (count: number, batchSize: number): number => Math.ceil(count / batchSize);

/** Check that a dataset's images fit a backbone. */
export const fitsConfig = (ds: Dataset, c: VitConfig): boolean =>
  ds.shape[0] === c.image && ds.shape[1] === c.image && ds.shape[2] === c.channels;
