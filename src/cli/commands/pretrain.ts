import { copyFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Effect } from "effect";
import { Command, Flag } from "effect/cli";
import { newFilePath } from "../newFilePath.js";
import { backend, defaulted, integer, optional, text, required, toggle } from "../flags.js";
import { attempt, exitCode, runCommand, withInput } from "../runCommand.js";
import type { Experiment } from "../../dsl/experiment.js";
import { fullFineTuning } from "../../methods/fullFineTuning.js";
import { initVit } from "../../models/initVit.js";
import type { VitConfig } from "../../models/vitConfig.js";
import { mnist } from "../../data/mnist.js";
import { runExperiment } from "../../train/runExperiment.js";
import { streamProgress } from "../../train/progress.js";
import { BadInput } from "../../train/errors.js";

/** The demo backbone's shape: MNIST-sized, small enough to fine-tune in seconds per epoch on 2 cores. */
export const demoConfig = (classes: number): VitConfig => ({
  image: 28,
  channels: 1,
  patch: 4,
  width: 64,
  depth: 4,
  heads: 4,
  mlpRatio: 4,
  classes,
  layerNormEps: 1e-6,
  gelu: "erf",
});

/** What a demo backbone pretrained on `digits` is called. */
export const demoName = (digits: readonly number[]): string => `peft-dsl demo ViT (MNIST digits ${digits.join(",")})`;

const parseDigits = (text: string): number[] => {
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
const flags = {
  out: required(text("out", "DIR"), "the run directory; the backbone is DIR/merged.safetensors"),
  digits: defaulted(Flag.String("digits"), "0,1,2,3,4", "the MNIST digits of the source task, comma-separated"),
  epochs: defaulted(integer("epochs", 1), 6, "epochs to train"),
  seed: defaulted(integer("seed", 0), 0, "the run's seed"),
  export: optional(text("export", "FILE"), "also copy the backbone to FILE (replaced if there)"),
  backend: backend(),
  resume: toggle("resume", "continue the run in --out from its last checkpoint"),
};

export const pretrain = Command.make(
  "pretrain",
  flags,
  exitCode((args: Command.Command.Config.Infer<typeof flags>) =>
    withInput(
      () => {
        const digits = parseDigits(args.digits);
        const train = mnist("train");
        let pool = 0;
        for (let i = 0; i < train.count; i++) if (digits.includes(train.labels[i]!)) pool++;
        const seed = args.seed;
        const experiment: Experiment = {
          name: `pretrain ViT (28², patch 4, width 64, depth 4) on digits ${digits.join(",")}`,
          backbone: { weights: "random", head: "keep" },
          data: { _tag: "Mnist", digits, split: { _tag: "Vtab1k", train: pool - 1000, val: 1000 }, seed, testLimit: null },
          method: fullFineTuning(),
          optimizer: { _tag: "AdamW", lr: 1e-3, weightDecay: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
          schedule: { epochs: args.epochs, batchSize: 128, warmupEpochs: 1, minLr: 1e-5, shape: { _tag: "Cosine" } },
          labelSmoothing: 0,
          dropPath: 0,
          // From random weights there is no pretrained representation to compare with.
          metrics: { examples: 0, everyEpoch: false },
          seed,
        };
        return {
          experiment,
          out: resolve(args.out),
          exportTo: args.export === undefined ? undefined : newFilePath("--export", args.export, true),
          resume: args.resume,
          backend: args.backend,
          // The name the pretrained backbone carries (and its fine-tuned runs, and their HF PEFT exports, name as their base).
          backbone: { ...initVit(demoConfig(digits.length), seed), timm: { name: demoName(digits) } },
        };
      },
      (input) =>
        runCommand(
          Effect.gen(function* () {
            const r = yield* runExperiment(input.experiment, {
              outDir: input.out,
              resume: input.resume,
              progress: streamProgress(),
              baseDir: process.cwd(),
              backbone: input.backbone,
            });
            process.stdout.write(
              `pretrained: test accuracy ${(100 * r.metrics.testAccuracy).toFixed(2)}% in ${r.timings.trainSeconds.toFixed(0)}s; backbone at ${join(input.out, "merged.safetensors")}\n`,
            );
            if (input.exportTo) {
              yield* attempt(() => copyFileSync(join(input.out, "merged.safetensors"), input.exportTo!));
              process.stdout.write(`exported to ${input.exportTo}\n`);
            }
          }),
          input.backend,
        ),
    ),
  ),
).pipe(
  Command.withDescription("train the small demo ViT from scratch on a source task (MNIST digits; all their train images but 1,000 kept for validation)"),
  Command.withExamples([
    { command: "peft pretrain --out runs/pretrain --export my-backbone.safetensors", description: "the demo backbone, as assets/ holds it" },
  ]),
);
