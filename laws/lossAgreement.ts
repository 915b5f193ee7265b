import * as tf from "@tensorflow/tfjs-core";
import type { Law } from "./law.js";
import { withProgram } from "./harness.js";
import { randomLossValues, referenceLossTerms } from "./referenceLosses.js";
import { imagesTensor, mustBeClose, randomAdapterValues, randomImages } from "./setting.js";

export const lossAgreement: Law = {
  name: "loss terms ≈ float64 definitions",
  statement:
    "every loss term of the compiled program (BAFT, RIFT/RIFT*, RSC, L2-SP) equals its float64 definition on the reference forward, with random adapter values and random RIFT state",
  check: async (m, config, seed) =>
    withProgram(m, config, seed, async ({ backbone, program }) => {
      if (m.losses.length === 0) return;
      const values = new Map([...(await randomAdapterValues(program, backbone.weights, seed)), ...randomLossValues(program, seed)]);
      program.setValues(values);
      // Six images: linear CKA of two centred samples is 1 whatever the features, so RSC needs more.
      const n = 6;
      const imageData = randomImages(config, n, seed + 1);
      const images = imagesTensor(config, imageData);
      const compiled = tf.tidy(() => {
        const out = program.forward(images);
        return tf.stack(m.losses.map((_, i) => program.lossTerm(i, out, images)));
      });
      const actual = compiled.dataSync();
      compiled.dispose();
      images.dispose();
      const expected = referenceLossTerms(m, backbone, values, Float64Array.from(imageData), n);
      expected.forEach((e, i) => mustBeClose(`losses[${i}] (${m.losses[i]!._tag})`, [actual[i]!], [e], { atol: 1e-4, rtol: 2e-3 }));
    }),
};
