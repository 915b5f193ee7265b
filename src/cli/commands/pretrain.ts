import { copyFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Effect } from "effect";
import { backendFlag, intFlag, newFileFlag, parse, requireFlag } from "../args.js";
import { attempt, runCommand, withInput } from "../runCommand.js";
import type { Experiment } from "../../dsl/experiment.js";
import { fullFineTuning } from "../../methods/fullFineTuning.js";
import { initVit } from "../../models/initVit.js";
import type { VitConfig } from "../../models/vitConfig.js";
import { mnist } from "../../data/mnist.js";
import { runExperiment } from "../../train/runExperiment.js";
import { streamProgress } from "../../train/progress.js";
import { BadInput } from "../../train/errors.js";

export const pretrainUsage = "peft pretrain --out DIR [--digits 0,1,2,3,4] [--epochs N] [--seed N] [--export FILE] [--backend B] [--resume]";

/** The demo backbone's shape: MNIST-sized, small enough to fine-tune in seconds per epoch on 2 cores. */
export const demoConfig = (classes: number): VitConfig => ({
  image: 28, channels: 1, patch: 4, width: 64, depth: 4, heads: 4, mlpRatio: 4, classes, layerNormEps: 1e-6, gelu: "erf",
});

const parseDigits = (raw: unknown): number[] => {
  const text = raw === undefined ? "0,1,2,3,4" : String(raw);
  const digits = text.split(",").map((d) => Number(d.trim()));
  if (digits.length < 2 || digits.some((d) => !Number.isInteger(d) || d < 0 || d > 9) || new Set(digits).size !== digits.length) {
    throw new BadInput({ lines: [`--digits: expected at least two distinct digits 0-9 separated by commas, got ${JSON.stringify(text)}`] });
  }
  return digits;
};

/**
 * Train a small ViT from scratch on a source task (by default digits 0–4, every MNIST train
 * image of them but 1,000 kept for validation): the default backbone the demo adapts to 5–9.
 */
export const pretrain = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values } = parse(argv, {
        out: { type: "string" }, digits: { type: "string" }, epochs: { type: "string" }, seed: { type: "string" },
        export: { type: "string" }, backend: { type: "string" }, resume: { type: "boolean" },
      });
      const digits = parseDigits(values.digits);
      const train = mnist("train");
      let pool = 0;
      for (let i = 0; i < train.count; i++) if (digits.includes(train.labels[i]!)) pool++;
      const seed = intFlag("seed", values.seed, 0) ?? 0;
      const experiment: Experiment = {
        name: `pretrain ViT (28², patch 4, width 64, depth 4) on digits ${digits.join(",")}`,
        backbone: { weights: "random", head: "keep" },
        data: { _tag: "Mnist", digits, split: { _tag: "Vtab1k", train: pool - 1000, val: 1000 }, seed, testLimit: null },
        method: fullFineTuning(),
        optimizer: { _tag: "AdamW", lr: 1e-3, weightDecay: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
        schedule: { epochs: intFlag("epochs", values.epochs, 1) ?? 6, batchSize: 128, warmupEpochs: 1, minLr: 1e-5, shape: { _tag: "Cosine" } },
        labelSmoothing: 0,
        dropPath: 0,
        // From random weights there is no pretrained representation to compare with.
        metrics: { examples: 0, everyEpoch: false },
        seed,
      };
      return {
        experiment, out: resolve(requireFlag("out", values.out)), exportTo: values.export === undefined ? undefined : newFileFlag("export", values.export, true),
        resume: values.resume === true, backend: backendFlag(values.backend), backbone: initVit(demoConfig(digits.length), seed),
      };
    },
    (input) =>
      runCommand(
        Effect.gen(function* () {
          const r = yield* runExperiment(input.experiment, { outDir: input.out, resume: input.resume, progress: streamProgress(), baseDir: process.cwd(), backbone: input.backbone });
          process.stdout.write(`pretrained: test accuracy ${(100 * r.metrics.testAccuracy).toFixed(2)}% in ${r.timings.trainSeconds.toFixed(0)}s; backbone at ${join(input.out, "merged.safetensors")}\n`);
          if (input.exportTo) {
            yield* attempt(() => copyFileSync(join(input.out, "merged.safetensors"), input.exportTo!));
            process.stdout.write(`exported to ${input.exportTo}\n`);
          }
        }),
        input.backend,
      ),
  );
