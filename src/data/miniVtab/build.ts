import type { Split } from "../../dsl/experiment.js";
import { miniVtabTasks, type MiniVtabName } from "../../dsl/miniVtab.js";
import type { Image } from "./raster.js";
import type { ExampleSource } from "./source.js";
import { digitTasks } from "./digitTasks.js";
import { sceneTasks } from "./sceneTasks.js";

export interface Examples {
  readonly images: readonly Image[];
  readonly labels: readonly number[];
}

export class MiniVtabError extends Error {
  override readonly name = "MiniVtabError";
}

const sources: Record<MiniVtabName, (which: "train" | "test", seed: number, name: string) => ExampleSource> = { ...digitTasks, ...sceneTasks };

const take = (src: ExampleSource, indices: readonly number[]): Examples => {
  const examples = indices.map((i) => src.example(i));
  return { images: examples.map((e) => e.image), labels: examples.map((e) => e.label) };
};

/** Generated streams are endless; what a task holds in memory is not: a stated ceiling of 100,000 examples a stream. */
const maxStream = 100_000;
const capped = (src: ExampleSource): ExampleSource => ({ ...src, size: Math.min(src.size, maxStream) });

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/**
 * A mini-VTAB task's three splits, deterministic in `seed`. VTAB-1k: train and val are the first
 * examples of the train stream, test the first `testSize` of the test stream (for digit tasks
 * the standard MNIST train and test images of 5–9, so test never shares an image with train).
 * k-shot: the first `shots` examples of every class, then `val` examples after the last one taken.
 */
export const miniVtabSplits = (name: MiniVtabName, split: Split, seed: number, testSize: number): { train: Examples; val: Examples; test: Examples } => {
  const trainStream = capped(sources[name]("train", seed, name));
  const testStream = capped(sources[name]("test", seed, name));
  const classes = miniVtabTasks[name].classes;
  let trainIdx: number[];
  let next: number;
  if (split._tag === "Vtab1k") {
    trainIdx = range(0, split.train);
    next = split.train;
  } else {
    const perClass = new Array<number>(classes).fill(0);
    trainIdx = [];
    next = 0;
    while (perClass.some((n) => n < split.shots)) {
      if (next >= trainStream.size) throw new MiniVtabError(`data.split: ${name} has fewer than ${split.shots} training examples of every class`);
      const label = trainStream.example(next).label;
      if (perClass[label]! < split.shots) {
        perClass[label]! += 1;
        trainIdx.push(next);
      }
      next += 1;
    }
  }
  if (next + split.val > trainStream.size)
    throw new MiniVtabError(`data.split asks for ${next + split.val} training-stream examples of ${name}; it has ${trainStream.size}`);
  if (testSize > testStream.size) throw new MiniVtabError(`data.testSize: ${name} has ${testStream.size} test examples, ${testSize} asked`);
  return { train: take(trainStream, trainIdx), val: take(trainStream, range(next, split.val)), test: take(testStream, range(0, testSize)) };
};
