import * as tf from "@tensorflow/tfjs-core";
import type { Program } from "../interpreters/compile/program.js";
import { inOrder, type Dataset } from "../data/dataset.js";
import type { Counter } from "../util/counter.js";
import { hostCopy } from "../util/hostRead.js";

/** Top-1 accuracy of the adapted model on a dataset. */
export const accuracy = async (program: Program, ds: Dataset, batchSize = 256, progress?: Counter): Promise<number> => {
  if (ds.count === 0) return NaN;
  let correct = 0;
  let done = 0;
  for (const b of inOrder(ds, batchSize)) {
    const predicted = tf.tidy(() => tf.argMax(program.forward(tf.tensor4d(b.images, [b.count, ...ds.shape])).logits, 1));
    const p = await hostCopy(predicted);
    predicted.dispose();
    for (let i = 0; i < b.count; i++) if (p[i] === b.labels[i]) correct++;
    progress?.((done += b.count), ds.count);
  }
  return correct / ds.count;
};
