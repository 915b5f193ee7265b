import * as tf from "@tensorflow/tfjs-core";
import type { Method } from "../src/dsl/method.js";
import { compile, type Program } from "../src/interpreters/compile/program.js";
import type { Backbone } from "../src/models/backbone.js";
import type { VitConfig } from "../src/models/vitConfig.js";
import { randomVit } from "../src/models/randomVit.js";
import { readHost } from "../src/util/hostRead.js";
import { imagesTensor, randomImages } from "./setting.js";

/** A random backbone, the method compiled on it, and random images; disposed after `f`. */
export const withProgram = async <A>(method: Method, config: VitConfig, seed: number, f: (s: {
  backbone: Backbone; program: Program; images: tf.Tensor4D; imageData: Float32Array;
}) => Promise<A>): Promise<A> => {
  const backbone = randomVit(config, seed);
  const imageData = randomImages(config, 2, seed);
  const images = imagesTensor(config, imageData);
  const program = compile(method, backbone, { seed });
  try {
    return await f({ backbone, program, images, imageData });
  } finally {
    program.dispose();
    images.dispose();
  }
};

export const logitsOf = (program: Program, images: tf.Tensor4D): Float32Array => readHost(() => program.forward(images).logits);
