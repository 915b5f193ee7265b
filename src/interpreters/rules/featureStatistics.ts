import * as tf from "@tensorflow/tfjs-core";
import { inOrder, type Dataset } from "../../data/dataset.js";
import type { AdapterValue } from "../adapterParams.js";
import type { Program } from "../compile/program.js";
import { lossParamName } from "../compile/lossTerms.js";
import type { Counter } from "../../util/counter.js";
import { hostCopy } from "../../util/hostRead.js";

export interface StatisticsRecord {
  readonly rule: "once: featureStatistics";
  readonly examples: number;
  /** tr Σ_p and ‖μ_p‖: the scale RIFT's s² divides by, and how far the features sit from the origin. */
  readonly trace: number;
  readonly meanNorm: number;
  readonly seconds: number;
}

/** Host mean and unbiased covariance of rows of width d streamed in batches (float64 sums). */
const streamedMoments = (width: number) => {
  const sum = new Float64Array(width);
  const outer = new Float64Array(width * width);
  let count = 0;
  return {
    add: (rows: ArrayLike<number>, n: number) => {
      for (let k = 0; k < n; k++) {
        const at = k * width;
        for (let i = 0; i < width; i++) {
          const xi = rows[at + i]!;
          sum[i]! += xi;
          for (let j = 0; j < width; j++) outer[i * width + j]! += xi * rows[at + j]!;
        }
      }
      count += n;
    },
    result: () => {
      const mean = sum.map((s) => s / count);
      const covariance = outer.map((s, k) => (s - count * mean[Math.floor(k / width)]! * mean[k % width]!) / (count - 1));
      return { mean, covariance, count };
    },
  };
};

/**
 * RIFT's prelude: μ_p and Σ_p of the pretrained model's head-input features over every training
 * example (in order, no augmentation), set on every RIFT term of the program.
 */
export const featureStatistics = async (
  program: Program,
  train: Dataset,
  batchSize: number,
  progress?: Counter,
): Promise<{ values: Map<string, AdapterValue>; record: StatisticsRecord }> => {
  const started = performance.now();
  const width = program.config.width;
  const moments = streamedMoments(width);
  let done = 0;
  for (const b of inOrder(train, batchSize)) {
    const f = tf.tidy(() => program.pretrainedForward(tf.tensor4d(b.images, [b.count, ...train.shape])).preLogits);
    moments.add(await hostCopy(f), b.count);
    f.dispose();
    progress?.((done += b.count), train.count);
  }
  const { mean, covariance, count } = moments.result();
  const values = new Map<string, AdapterValue>();
  program.method.losses.forEach((l, i) => {
    if (l._tag !== "Rift") return;
    values.set(lossParamName(i, "mean"), Float32Array.from(mean));
    values.set(lossParamName(i, "covariance"), Float32Array.from(covariance));
  });
  let trace = 0;
  for (let i = 0; i < width; i++) trace += covariance[i * width + i]!;
  return {
    values,
    record: { rule: "once: featureStatistics", examples: count, trace, meanNorm: Math.hypot(...mean), seconds: (performance.now() - started) / 1000 },
  };
};
