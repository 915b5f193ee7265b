import * as tf from "@tensorflow/tfjs-core";
import { trainer } from "../src/interpreters/compile/trainer.js";
import { rng } from "../src/util/random.js";
import type { Law } from "./law.js";
import { withProgram } from "./harness.js";
import { holds } from "./violation.js";

export const noTensorLeak: Law = {
  name: "no tensor leak",
  statement: "the live tensor count after several train steps equals the count after one, and returns to its start on dispose",
  check: async (method, config, seed) => {
    const start = tf.memory().numTensors;
    await withProgram(method, config, seed, async ({ program, images }) => {
      const r = rng(seed, "labels");
      const labels = tf.tensor1d(
        Array.from({ length: images.shape[0] }, () => r.int(config.classes)),
        "int32",
      );
      const t = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
      try {
        await t.step(images, labels, 1e-3);
        const afterOne = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) await t.step(images, labels, 1e-3);
        const afterFour = tf.memory().numTensors;
        holds(afterOne === afterFour, () => `${afterOne} live tensors after 1 step, ${afterFour} after 4`);
      } finally {
        t.dispose();
        labels.dispose();
      }
    });
    const end = tf.memory().numTensors;
    holds(end === start, () => `${end - start} tensors left alive after dispose`);
  },
};
