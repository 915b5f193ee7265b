import { Effect } from "effect";
import { Command } from "effect/cli";
import { arch, backbone, backend, defaulted, integer, positional } from "../flags.js";
import { methodReader } from "../readInput.js";
import { archOption, configFor } from "../backboneConfig.js";
import { attempt, exitCode, runCommand, withInput } from "../runCommand.js";
import { checkLaws, lawConfigs } from "../../../laws/index.js";
import { resolveMethod } from "../../interpreters/resolve.js";
import { TfBackend } from "../../train/backend.js";
import { BadInput, IoFailure } from "../../train/errors.js";

const flags = {
  file: positional("FILE", "a method or an experiment: a JSON file, or a JavaScript module whose default export is one"),
  runs: defaulted(integer("runs", 1), 10, "random cases per law"),
  seed: defaulted(integer("seed", 0), 1, "fast-check's seed, to replay a failure"),
  backbone,
  arch,
  backend: backend("wasm"),
};

/** Check every law on the file's method, over random small ViTs as deep as its backbone. */
export const laws = Command.make(
  "laws",
  flags,
  exitCode(async (args: Command.Command.Config.Infer<typeof flags>) => {
    const read = await methodReader(args.file);
    return withInput(
      () => {
        const file = read();
        const config = configFor(args.backbone, file, archOption(args.arch));
        resolveMethod(file.method, config);
        // The laws compare host copies inside fast-check properties, read synchronously.
        if (args.backend === "webgpu")
          throw new BadInput({ lines: ["--backend: the laws read tensors synchronously, which WebGPU cannot; expected wasm, cpu, node or gpu"] });
        return { method: file.method, config, runs: args.runs, seed: args.seed, backend: args.backend };
      },
      (input) =>
        runCommand(
          Effect.gen(function* () {
            const backend = yield* TfBackend;
            // Again with the backend running: a user's primitive's ΔW is tried on every site first.
            yield* attempt(() => resolveMethod(input.method, input.config));
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
  }),
).pipe(
  Command.withDescription("check the property-based laws on a method (exit 1 if one fails, with the counterexample)"),
  Command.withExamples([{ command: "peft laws examples/methods/lora.json --runs 20", description: "LoRA's laws, 20 random cases each" }]),
);
