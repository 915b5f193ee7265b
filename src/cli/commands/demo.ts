import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Effect } from "effect";
import { Command } from "effect/cli";
import { backend, integer, optional, text } from "../flags.js";
import { readExperiment } from "../readInput.js";
import { exitCode, runCommand, withInput } from "../runCommand.js";
import { table } from "../table.js";
import { runExperiment } from "../../train/runExperiment.js";
import type { RunResult } from "../../train/runResult.js";
import { streamProgress } from "../../train/progress.js";
import { taskName } from "../../dsl/experiment.js";
import { BadInput } from "../../train/errors.js";
import { packageRoot } from "../../util/packageRoot.js";
import { readBackboneFile, backbonePath } from "../../train/loadBackbone.js";

/** The three example experiments the demo compares, in the order of the table. */
const demoMethods = [
  { label: "linear probe", file: "linear.json" },
  { label: "full fine-tuning", file: "full.json" },
  { label: "LoRA r8 (q,v) + head", file: "lora.json" },
] as const;

const runName = (file: string) => file.replace(/\.json$/, "");

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

const report = (runs: readonly { label: string; result: RunResult }[]): string =>
  table(
    ["method", "trainable", "% of backbone", "val acc", "test acc", "train time", "ms/step"],
    runs.map(({ label, result: r }) => [
      label,
      r.trainable.toLocaleString("en-US"),
      `${r.trainablePercent.toFixed(2)}%`,
      pct(r.metrics.valAccuracy),
      pct(r.metrics.testAccuracy),
      `${r.timings.trainSeconds.toFixed(1)}s`,
      r.timings.medianStepMs.toFixed(0),
    ]),
  );

/**
 * Fine-tune the embedded backbone (pretrained on MNIST digits 0–4) on digits 5–9 with 800
 * training images, with linear probe, full fine-tuning and LoRA, and print a comparison.
 */
const flags = {
  out: optional(text("out", "DIR"), "where the three runs go (default: a new folder under the system's temp directory)"),
  epochs: optional(integer("epochs", 1), "epochs for each method (default: the example experiments')"),
  backend: backend(),
};

export const demo = Command.make(
  "demo",
  flags,
  exitCode((args: Command.Command.Config.Infer<typeof flags>) =>
    withInput(
      () => {
        const epochs = args.epochs;
        const experiments = demoMethods.map(({ label, file }) => {
          const { experiment, baseDir } = readExperiment(join(packageRoot(), "examples", "experiments", file));
          return { label, file, baseDir, experiment: { ...experiment, schedule: { ...experiment.schedule, epochs: epochs ?? experiment.schedule.epochs } } };
        });
        readBackboneFile(backbonePath("default", packageRoot()));
        const out = args.out === undefined ? mkdtempSync(join(tmpdir(), "peft-demo-")) : resolve(args.out);
        for (const e of experiments) {
          if (existsSync(join(out, runName(e.file))))
            throw new BadInput({ lines: [`--out ${out} already holds ${runName(e.file)}/; choose another directory`] });
        }
        return { experiments, out, backend: args.backend };
      },
      (input) => {
        const log = process.stderr;
        const data = input.experiments[0]!.experiment.data;
        log.write(
          `peft demo: adapt a ViT pretrained on MNIST digits 0-4 to ${taskName(data)} from ${"split" in data && data.split._tag === "Vtab1k" ? data.split.train : "few"} training images\n`,
        );
        log.write(`loading the ${input.backend} backend…\n`);
        return runCommand(
          Effect.gen(function* () {
            const runs: { label: string; result: RunResult }[] = [];
            for (const e of input.experiments) {
              log.write(`\n── ${e.label} (${e.file}) ──\n`);
              const result = yield* runExperiment(e.experiment, {
                outDir: join(input.out, runName(e.file)),
                resume: false,
                progress: streamProgress(),
                baseDir: e.baseDir,
              });
              runs.push({ label: e.label, result });
            }
            process.stdout.write(`\n${report(runs)}\n\nbackend: ${runs[0]!.result.backend}; runs written under ${input.out}\n`);
          }),
          input.backend,
        );
      },
    ),
  ),
).pipe(
  Command.withDescription("fine-tune the default backbone on a new task with linear probe, full and LoRA; print a table"),
  Command.withExamples([{ command: "peft demo --epochs 1", description: "a quick look: one epoch per method" }]),
);
