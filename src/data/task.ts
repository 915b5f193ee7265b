import { taskClasses, type Task } from "../dsl/experiment.js";
import { MiniVtabError, miniVtabSplits } from "./miniVtab/build.js";
import type { VitConfig } from "../models/vitConfig.js";
import { rng, shuffled } from "../util/random.js";
import { inMemory, type Dataset, type InMemoryDataset } from "./dataset.js";
import { mnist, mnistSide, type MnistSplit } from "./mnist.js";
import { mnistMean as mean, mnistStd as std } from "./preprocessing.js";

export interface TaskData<D extends Dataset = Dataset> {
  readonly train: D;
  readonly val: D;
  readonly test: D;
  readonly classes: number;
}

export class TaskError extends Error {
  override readonly name = "TaskError";
}

/**
 * Normalise 28×28 images (pixel k, i in [0, 1]) and fit them to the backbone: centred padding
 * (or a centre crop) to `image` pixels, grey copied into every channel.
 */
const toDataset = (labels: readonly number[], pixel: (k: number, i: number) => number, c: VitConfig): InMemoryDataset => {
  const side = c.image;
  const offset = Math.floor((side - mnistSide) / 2);
  const background = (0 - mean) / std;
  const size = side * side * c.channels;
  const images = new Float32Array(labels.length * size).fill(background);
  labels.forEach((_, k) => {
    for (let y = 0; y < side; y++) {
      const sy = y - offset;
      if (sy < 0 || sy >= mnistSide) continue;
      for (let x = 0; x < side; x++) {
        const sx = x - offset;
        if (sx < 0 || sx >= mnistSide) continue;
        const v = (pixel(k, sy * mnistSide + sx) - mean) / std;
        for (let ch = 0; ch < c.channels; ch++) images[k * size + (y * side + x) * c.channels + ch] = v;
      }
    }
  });
  return inMemory(images, Int32Array.from(labels), [side, side, c.channels]);
};

/** Grey 28×28 images in [0, 1] (digits in float64, so v/255 is exact before normalisation) and their labels. */
export interface RawSplit {
  readonly images: readonly (Float32Array | Float64Array)[];
  readonly labels: readonly number[];
}

const digitExamples = (src: MnistSplit, picks: readonly number[], labelOf: (digit: number) => number): RawSplit => ({
  images: picks.map((i) => Float64Array.from(src.images.subarray(i * mnistSide * mnistSide, (i + 1) * mnistSide * mnistSide), (v) => v / 255)),
  labels: picks.map((i) => labelOf(src.labels[i]!)),
});

const indicesOf = (src: MnistSplit, digits: readonly number[]): number[] => {
  const wanted = new Set(digits);
  const out: number[] = [];
  for (let i = 0; i < src.count; i++) if (wanted.has(src.labels[i]!)) out.push(i);
  return out;
};

/** The tasks whose images are made in memory (MNIST digits, mini-VTAB). */
export type InMemoryTask = Exclude<Task, { readonly _tag: "ImageFolder" | "ImageList" }>;

/**
 * An in-memory task's three splits as 28×28 grey images in [0, 1], before normalisation and
 * fitting. Mnist, VTAB-1k-style: train and val drawn without overlap from the standard train
 * split of the chosen digits (a fixed seed, so every run sees the same split), test = the
 * standard test split of those digits. Few-shot takes `shots` train examples per class.
 */
export const taskImages = (task: InMemoryTask): { readonly train: RawSplit; readonly val: RawSplit; readonly test: RawSplit } => {
  if (task._tag === "MiniVtab") {
    try {
      return miniVtabSplits(task.name, task.split, task.seed, task.testSize);
    } catch (e) {
      throw e instanceof MiniVtabError ? new TaskError(e.message) : e;
    }
  }
  const labelOf = (d: number) => task.digits.indexOf(d);
  const train = mnist("train");
  const test = mnist("test");
  const pool = shuffled(indicesOf(train, task.digits), rng(task.seed, "split"));
  let trainPicks: number[];
  let rest: number[];
  if (task.split._tag === "Vtab1k") {
    trainPicks = pool.slice(0, task.split.train);
    rest = pool.slice(task.split.train);
  } else {
    const shots = task.split.shots;
    trainPicks = task.digits.flatMap((d) => pool.filter((i) => train.labels[i] === d).slice(0, shots));
    const taken = new Set(trainPicks);
    rest = pool.filter((i) => !taken.has(i));
  }
  const valPicks = rest.slice(0, task.split.val);
  const need = trainPicks.length + valPicks.length;
  const wanted = task.split._tag === "Vtab1k" ? task.split.train + task.split.val : task.split.shots * task.digits.length + task.split.val;
  if (need < wanted) throw new TaskError(`data.split asks for ${wanted} examples of digits ${task.digits.join(",")}, MNIST's train split has ${pool.length}`);
  const testAll = indicesOf(test, task.digits);
  const testPicks =
    task.testLimit === null
      ? testAll
      : shuffled(testAll, rng(task.seed, "test"))
          .slice(0, task.testLimit)
          .sort((a, b) => a - b);
  return { train: digitExamples(train, trainPicks, labelOf), val: digitExamples(train, valPicks, labelOf), test: digitExamples(test, testPicks, labelOf) };
};

/** An in-memory task's train, val and test data, normalised and fitted to the backbone. */
export const buildTask = (task: InMemoryTask, c: VitConfig): TaskData<InMemoryDataset> => {
  if ((c.image !== mnistSide || c.channels !== 1) && task.fit !== "pad") {
    throw new TaskError(
      `data: the images are ${mnistSide}×${mnistSide}×1 but the backbone takes ${c.image}×${c.image}×${c.channels}; set data.fit to "pad" to centre-pad (or crop) them and repeat the grey channel, or use a backbone of that size`,
    );
  }
  const splits = taskImages(task);
  const data = (x: RawSplit) => toDataset(x.labels, (k, i) => x.images[k]![i]!, c);
  return { train: data(splits.train), val: data(splits.val), test: data(splits.test), classes: taskClasses(task) };
};
