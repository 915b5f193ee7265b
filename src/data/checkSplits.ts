import { ImageDataError } from "./imageDecoding.js";
import type { LoadedImages } from "./imageFolder.js";

/** The labels 0 … k−1 that `labels` lacks, as inclusive ranges (without enumerating k, which may be huge). */
export const absentLabels = (labels: Iterable<number>, k: number): (readonly [number, number])[] => {
  const present = [...new Set(labels)].filter((l) => l < k).sort((a, b) => a - b);
  const gaps: (readonly [number, number])[] = [];
  let next = 0;
  for (const l of [...present, k]) {
    if (l > next) gaps.push([next, l - 1]);
    next = l + 1;
  }
  return gaps;
};

/** Class names of the ranges, the first few of them. */
const named = (gaps: readonly (readonly [number, number])[], classes: readonly string[]): string => {
  const all = gaps.flatMap(([a, b]) => classes.slice(a, b + 1).map((name, i) => (name === String(a + i) ? name : `${JSON.stringify(name)} (label ${a + i})`)));
  return all.length <= 10 ? all.join(", ") : `${all.slice(0, 10).join(", ")} and ${all.length - 10} more`;
};

/**
 * Image data a run can use: training images of every class of the head, and test images;
 * otherwise an error saying what is missing (`source`: where the split came from).
 */
export const checkSplits = (data: LoadedImages, classes: readonly string[], source: string): LoadedImages => {
  const skipped = data.skipped.length > 0 ? ` once its ${data.skipped.length} unreadable images are left out` : "";
  if (data.train.count === 0) throw new ImageDataError(`data: ${source} gives no training images${skipped}`);
  const absent = absentLabels(data.train.labels, classes.length);
  if (absent.length > 0)
    throw new ImageDataError(
      `data: ${source} gives no training images of class ${named(absent, classes)}${skipped}; every class of the model's head needs some`,
    );
  if (data.test.count === 0) throw new ImageDataError(`data: ${source} leaves no test images${skipped}`);
  return data;
};
