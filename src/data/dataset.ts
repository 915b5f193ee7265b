import { rng, shuffled } from "../util/random.js";

/** Model-ready examples: integer labels, and NHWC float32 images read on demand. */
export interface Dataset {
  readonly labels: Int32Array;
  readonly count: number;
  /** [height, width, channels] of one image. */
  readonly shape: readonly [number, number, number];
  /** The images at `indices`, in that order, concatenated. */
  readonly read: (indices: readonly number[]) => Float32Array;
}

/** A dataset whose images are all in memory. */
export interface InMemoryDataset extends Dataset {
  readonly images: Float32Array;
}

export const inMemory = (images: Float32Array, labels: Int32Array, shape: readonly [number, number, number]): InMemoryDataset => {
  const size = shape[0] * shape[1] * shape[2];
  return {
    images,
    labels,
    count: labels.length,
    shape,
    read: (indices) => {
      const out = new Float32Array(indices.length * size);
      indices.forEach((i, k) => out.set(images.subarray(i * size, (i + 1) * size), k * size));
      return out;
    },
  };
};

export interface Batch {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

/** The examples at `indices`, in that order. */
export const gather = (ds: Dataset, indices: readonly number[]): Batch => ({
  images: ds.read(indices),
  labels: Int32Array.from(indices, (i) => ds.labels[i]!),
  count: indices.length,
});

/** One epoch's mini-batches as example indices, in a seeded order (seed, epoch): a resumed run replays the same order. */
export const epochOrder = (count: number, batchSize: number, seed: number, epoch: number): number[][] => {
  const order = shuffled(
    Array.from({ length: count }, (_, i) => i),
    rng(seed, `epoch:${epoch}`),
  );
  const out: number[][] = [];
  for (let at = 0; at < order.length; at += batchSize) out.push(order.slice(at, at + batchSize));
  return out;
};

/** The first `limit` mini-batches of an epoch's order, read. */
export const epochBatches = (ds: Dataset, batchSize: number, seed: number, epoch: number, limit?: number): Batch[] =>
  epochOrder(ds.count, batchSize, seed, epoch)
    .slice(0, limit)
    .map((indices) => gather(ds, indices));

/** Consecutive batches in dataset order, for evaluation; each read when it is reached. */
export function* inOrder(ds: Dataset, batchSize: number): Generator<Batch> {
  for (let at = 0; at < ds.count; at += batchSize) {
    yield gather(
      ds,
      Array.from({ length: Math.min(batchSize, ds.count - at) }, (_, i) => at + i),
    );
  }
}

export const batchesPerEpoch = (count: number, batchSize: number): number => Math.ceil(count / batchSize);
