import * as tf from "@tensorflow/tfjs-core";
import type { Method } from "../src/dsl/method.js";
import { compile, type Program } from "../src/interpreters/compile/program.js";
import type { Backbone } from "../src/models/backbone.js";
import type { VitConfig } from "../src/models/vitConfig.js";
import { randomVit } from "../src/models/randomVit.js";
import { readHost } from "../src/util/hostRead.js";
import { imagesTensor, randomImages } from "./setting.js";
import { trainer } from "../src/interpreters/compile/trainer.js";
import { isPrelude, runPrelude } from "../src/interpreters/rules/prelude.js";
import { inMemory } from "../src/data/dataset.js";
import { rng } from "../src/util/random.js";

/**
 * The state a method's `once` rules set (S²FT's tours and weighted positions, RIFT's statistics),
 * set as `peft train` sets it — from the rule itself, here over 8 random labelled images — so
 * every law sees the program a run would train.
 */
const runPreludes = async (method: Method, program: Program, backbone: Backbone, config: VitConfig, seed: number): Promise<void> => {
  const once = method.rules.filter(isPrelude);
  if (once.length === 0) return;
  const r = rng(seed, "law:prelude labels");
  const train = inMemory(
    randomImages(config, 8, seed + 1),
    Int32Array.from({ length: 8 }, () => Math.floor(r.uniform() * config.classes)),
    [config.image, config.image, config.channels],
  );
  for (const rule of once) program.setValues((await runPrelude(rule, program, backbone, train, 4)).values);
};

/** A random backbone, the method compiled on it with its `once` rules run, and random images; disposed after `f`. */
export const withProgram = async <A>(
  method: Method,
  config: VitConfig,
  seed: number,
  f: (s: { backbone: Backbone; program: Program; images: tf.Tensor4D; imageData: Float32Array }) => Promise<A>,
): Promise<A> => {
  const backbone = randomVit(config, seed);
  const imageData = randomImages(config, 2, seed);
  const images = imagesTensor(config, imageData);
  const program = compile(method, backbone, { seed });
  try {
    await runPreludes(method, program, backbone, config, seed);
    return await f({ backbone, program, images, imageData });
  } finally {
    program.dispose();
    images.dispose();
  }
};

export const logitsOf = (program: Program, images: tf.Tensor4D): Float32Array => readHost(() => program.forward(images).logits);

/** `f` with a step function that trains `program` on `images` with random labels (AdamW, weight decay 0.01); the trainer disposed after. */
export const withTrainer = async <A>(
  program: Program,
  images: tf.Tensor4D,
  config: VitConfig,
  seed: number,
  f: (step: (lr: number) => Promise<void>) => Promise<A>,
): Promise<A> => {
  const r = rng(seed, "labels");
  const labels = tf.tensor1d(
    Array.from({ length: images.shape[0] }, () => r.int(config.classes)),
    "int32",
  );
  const t = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  try {
    return await f(async (lr) => {
      await t.step(images, labels, lr);
    });
  } finally {
    t.dispose();
    labels.dispose();
  }
};
