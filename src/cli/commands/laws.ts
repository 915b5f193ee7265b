import { Effect } from "effect";
import { backendFlag, intFlag, onePositional, parse } from "../args.js";
import { readMethodOrExperiment } from "../readInput.js";
import { archOption, configFor } from "../backboneConfig.js";
import { runCommand, withInput } from "../runCommand.js";
import { checkLaws, lawConfigs } from "../../../laws/index.js";
import { resolveMethod } from "../../interpreters/resolve.js";
import { TfBackend } from "../../train/backend.js";
import { BadInput, IoFailure } from "../../train/errors.js";

export const lawsUsage = "peft laws FILE [--runs N] [--seed N] [--backbone vit-b16|CHECKPOINT [--arch TIMM_NAME]] [--backend B]";

/** Check every law on the file's method, over random small ViTs as deep as its backbone. */
export const laws = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, { runs: { type: "string" }, seed: { type: "string" }, backbone: { type: "string" }, arch: { type: "string" }, backend: { type: "string" } });
      const file = readMethodOrExperiment(onePositional(positionals, `method or experiment file (${lawsUsage})`));
      const config = configFor(values.backbone as string | undefined, file, archOption(values.arch));
      resolveMethod(file.method, config);
      const backend = backendFlag(values.backend ?? "wasm");
      // The laws compare host copies inside fast-check properties, read synchronously.
      if (backend === "webgpu") throw new BadInput({ lines: ["--backend: the laws read tensors synchronously, which WebGPU cannot; expected wasm, cpu, node or gpu"] });
      return { method: file.method, config, runs: intFlag("runs", values.runs, 1) ?? 10, seed: intFlag("seed", values.seed, 0) ?? 1, backend };
    },
    (input) =>
      runCommand(
        Effect.gen(function* () {
          const backend = yield* TfBackend;
          const where = lawConfigs(input.method, input.config).small
            ? `random small ViTs of depth ${input.config.depth}`
            : `random weights in the backbone's own shape (width ${input.config.width}, depth ${input.config.depth}: the method needs more room than small ViTs have)`;
          process.stdout.write(`checking laws on ${where} (backend ${backend.description}, ${input.runs} runs each, seed ${input.seed})\n`);
          const reports = yield* Effect.promise(() => checkLaws(input.method, { config: input.config, runs: input.runs, seed: input.seed }));
          for (const r of reports) {
            process.stdout.write(`${r.ok ? "✓" : "✗"} ${r.law} (${r.runs} runs): ${r.statement}\n`);
            if (r.failure) process.stdout.write(`    ${r.failure}\n`);
          }
          const failed = reports.filter((r) => !r.ok).length;
          if (failed > 0) return yield* new IoFailure({ path: "laws", reason: `${failed} law(s) failed` });
          process.stdout.write(`all ${reports.length} laws hold\n`);
        }),
        input.backend,
      ),
  );
