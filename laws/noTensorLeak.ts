import * as tf from "@tensorflow/tfjs-core";
import type { Law } from "./law.js";
import { withProgram, withTrainer } from "./harness.js";
import { holds } from "./violation.js";

export const noTensorLeak: Law = {
  name: "no tensor leak",
  statement: "the live tensor count after several train steps equals the count after one, and returns to its start on dispose",
  check: async (method, config, seed) => {
    const start = tf.memory().numTensors;
    await withProgram(method, config, seed, async ({ program, images }) => {
      await withTrainer(program, images, config, seed, async (step) => {
        await step(1e-3);
        const afterOne = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) await step(1e-3);
        const afterFour = tf.memory().numTensors;
        holds(afterOne === afterFour, () => `${afterOne} live tensors after 1 step, ${afterFour} after 4`);
      });
    });
    const end = tf.memory().numTensors;
    holds(end === start, () => `${end - start} tensors left alive after dispose`);
  },
};
