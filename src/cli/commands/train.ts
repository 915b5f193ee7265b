import { Effect } from "effect";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "effect/cli";
import { backend, epochs, text, positional, required, seed, toggle } from "../flags.js";
import { experimentReader } from "../readInput.js";
import { exitCode, runCommand, withInput } from "../runCommand.js";
import { runExperiment } from "../../train/runExperiment.js";
import { checkRunDirectory } from "../../train/runDirectory.js";
import { streamProgress } from "../../train/progress.js";

const flags = {
  file: positional(
    "FILE",
    "the experiment: a JSON file (see examples/experiments/), or a JavaScript module whose default export is one (a method with your own primitives)",
  ),
  out: required(text("out", "DIR"), "the run directory: result.json, adapter.safetensors, merged.safetensors, config.json, log.jsonl, checkpoints"),
  epochs,
  seed: seed("the run's seed: data order, initialisation, drop-path (default: the experiment's)"),
  backend: backend(),
  resume: toggle("resume", "continue the run in --out from its last checkpoint (refused if the experiment changed)"),
};

/** Fine-tune a backbone with a method as one experiment file describes. */
export const train = Command.make(
  "train",
  flags,
  exitCode(async (args: Command.Command.Config.Infer<typeof flags>) => {
    const read = await experimentReader(args.file);
    return withInput(
      () => {
        const { experiment, baseDir } = read();
        checkRunDirectory(resolve(args.out));
        return {
          experiment: {
            ...experiment,
            seed: args.seed ?? experiment.seed,
            schedule: { ...experiment.schedule, epochs: args.epochs ?? experiment.schedule.epochs },
          },
          baseDir,
          out: resolve(args.out),
          resume: args.resume,
          backend: args.backend,
        };
      },
      (input) => {
        process.stderr.write(`loading the ${input.backend} backend…\n`);
        return runCommand(
          Effect.gen(function* () {
            const r = yield* runExperiment(input.experiment, { outDir: input.out, resume: input.resume, progress: streamProgress(), baseDir: input.baseDir });
            const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
            // A finished run written before reconfiguration records existed has none.
            const dynamic = (r.reconfigurations ?? []).length > 0;
            process.stdout.write(
              `${r.name}: test accuracy ${pct(r.metrics.testAccuracy)}, ${Number.isFinite(r.metrics.valAccuracy) ? `val ${pct(r.metrics.valAccuracy)}` : "no val set"}, ${r.trainable.toLocaleString("en-US")} trainable (${r.trainablePercent.toFixed(3)}%), ${r.timings.trainSeconds.toFixed(1)}s training` +
                (dynamic
                  ? `, ${r.timings.reconfigureSeconds.toFixed(1)}s reconfiguring (${pct(r.timings.reconfigureSeconds / r.timings.trainSeconds)} of training)`
                  : "") +
                "\n",
            );
            const timm = existsSync(join(input.out, "config.json")) ? " + config.json (timm)" : "";
            process.stdout.write(
              `wrote ${input.out}/{result.json, adapter.safetensors, merged.safetensors${timm}, log.jsonl${dynamic ? ", configurations.svg" : ""}}\n`,
            );
          }),
          input.backend,
        );
      },
    );
  }),
).pipe(
  Command.withDescription("fine-tune a backbone with a method; writes result.json, adapter/merged safetensors, log.jsonl"),
  Command.withExamples([
    { command: "peft train examples/experiments/lora.json --out runs/lora", description: "LoRA r8 on q,v of the demo ViT" },
    { command: "peft train examples/experiments/lora.json --out runs/lora --resume", description: "continue it after a crash or kill" },
    {
      command: "peft train dist/examples/custom-primitive.js --out runs/loha",
      description: "an experiment written in TypeScript, with a primitive of its own",
    },
  ]),
);
