import { Effect } from "effect";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { backendFlag, intFlag, onePositional, parse, requireFlag } from "../args.js";
import { readExperiment } from "../readInput.js";
import { runCommand, withInput } from "../runCommand.js";
import { runExperiment } from "../../train/runExperiment.js";
import { streamProgress } from "../../train/progress.js";

export const trainUsage = "peft train FILE.json --out DIR [--epochs N] [--seed N] [--backend B] [--resume]";

export const train = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, {
        out: { type: "string" }, epochs: { type: "string" }, seed: { type: "string" }, backend: { type: "string" }, resume: { type: "boolean" },
      });
      const file = onePositional(positionals, `experiment file (${trainUsage})`);
      const out = resolve(requireFlag("out", values.out));
      const { experiment, baseDir } = readExperiment(file);
      const epochs = intFlag("epochs", values.epochs, 1);
      const seed = intFlag("seed", values.seed, 0);
      return {
        experiment: { ...experiment, seed: seed ?? experiment.seed, schedule: { ...experiment.schedule, epochs: epochs ?? experiment.schedule.epochs } },
        baseDir, out, resume: values.resume === true, backend: backendFlag(values.backend),
      };
    },
    (input) =>
      runCommand(
        Effect.gen(function* () {
          const r = yield* runExperiment(input.experiment, { outDir: input.out, resume: input.resume, progress: streamProgress(), baseDir: input.baseDir });
          const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
          // A finished run written before reconfiguration records existed has none.
          const dynamic = (r.reconfigurations ?? []).length > 0;
          process.stdout.write(`${r.name}: test accuracy ${pct(r.metrics.testAccuracy)}, val ${pct(r.metrics.valAccuracy)}, ${r.trainable.toLocaleString("en-US")} trainable (${r.trainablePercent.toFixed(3)}%), ${r.timings.trainSeconds.toFixed(1)}s training`
            + (dynamic ? `, ${r.timings.reconfigureSeconds.toFixed(1)}s reconfiguring (${pct(r.timings.reconfigureSeconds / r.timings.trainSeconds)} of training)` : "") + "\n");
          const timm = existsSync(join(input.out, "config.json")) ? " + config.json (timm)" : "";
          process.stdout.write(`wrote ${input.out}/{result.json, adapter.safetensors, merged.safetensors${timm}, log.jsonl${dynamic ? ", configurations.svg" : ""}}\n`);
        }),
        input.backend,
      ),
  );
