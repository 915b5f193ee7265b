import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Effect } from "effect";
import { Command, Flag } from "effect/cli";
import { newFilePath } from "../newFilePath.js";
import { arch, backend, text, positional, required } from "../flags.js";
import { archOption } from "../backboneConfig.js";
import { attempt, exitCode, runCommand, withInput } from "../runCommand.js";
import { readAdapter, adapterBytes } from "../../interpreters/adapterFile.js";
import { toHfPeft } from "../../interpreters/hfPeft/export.js";
import { fromHfPeft } from "../../interpreters/hfPeft/import.js";
import { compile } from "../../interpreters/compile/program.js";
import { MethodError } from "../../interpreters/methodError.js";
import { readBackbone } from "../../models/backbone.js";
import { readSafetensors, writeSafetensors } from "../../models/safetensors.js";
import { hubConfig, timmHubConfig } from "../../models/timmConfig.js";
import { readJson } from "../readInput.js";
import { BadInput } from "../../train/errors.js";
import { readInputFile } from "../../train/readInputFile.js";
import { backbonePath, readBackboneFile } from "../../train/loadBackbone.js";
import { writeDirectoryAtomic, writeFileAtomic } from "../../util/atomicWrite.js";

const format = required(Flag.Literals("format", ["hf-peft"]), "the file format: a Hugging Face PEFT adapter directory");

const exportFlags = {
  run: positional("RUN_DIR", "a directory written by peft train"),
  format,
  out: required(text("out", "DIR"), "a new directory for adapter_config.json and adapter_model.safetensors (missing parent folders are created)"),
};

/** The nearest path above `out` that exists must be a folder: the missing ones below it are created when writing. */
const checkParents = (out: string): void => {
  let parent = dirname(out);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) throw new BadInput({ lines: [`--out: ${parent} is a file, not a folder`] });
};

/** A run's adapter as a Hugging Face PEFT adapter directory (adapter_config.json + adapter_model.safetensors). */
export const exportRun = Command.make(
  "export",
  exportFlags,
  exitCode((args: Command.Command.Config.Infer<typeof exportFlags>) =>
    withInput(
      () => {
        const run = resolve(args.run);
        const out = resolve(args.out);
        if (existsSync(out)) throw new BadInput({ lines: [`--out: ${out} already exists; choose a new directory`] });
        checkParents(out);
        const adapter = readAdapter(readInputFile(join(run, "adapter.safetensors"), "RUN_DIR (adapter.safetensors)"), join(run, "adapter.safetensors"));
        const merged = readBackbone(readInputFile(join(run, "merged.safetensors"), "RUN_DIR (merged.safetensors)"), join(run, "merged.safetensors"));
        const timmConfig = join(run, "config.json");
        const architecture = existsSync(timmConfig)
          ? hubConfig(readJson(timmConfig), timmConfig).architecture
          : (timmHubConfig(merged.config).architecture as string);
        try {
          const hf = toHfPeft(adapter, merged, architecture);
          return { out, hf, type: hf.config.peft_type as string };
        } catch (e) {
          if (!(e instanceof MethodError)) throw e;
          throw new BadInput({
            lines: [`${e.message} (${join(run, "merged.safetensors")} holds the adapted model as plain timm weights, with config.json beside it)`],
          });
        }
      },
      async ({ out, hf, type }) => {
        // Folders created for --out are removed again if the write fails: nothing is left half-made.
        const created = mkdirSync(dirname(out), { recursive: true });
        try {
          await writeDirectoryAtomic(out, (dir) => {
            writeFileAtomic(join(dir, "adapter_config.json"), `${JSON.stringify(hf.config, null, 2)}\n`);
            writeFileAtomic(join(dir, "adapter_model.safetensors"), writeSafetensors(hf.tensors, { format: "pt" }));
          });
        } catch (e) {
          if (created !== undefined) rmSync(created, { recursive: true, force: true });
          throw e;
        }
        process.stdout.write(`wrote ${type} adapter (${hf.tensors.length} tensors) to ${out}\n`);
        return 0;
      },
    ),
  ),
).pipe(
  Command.withDescription(
    "a run's adapter as a Hugging Face PEFT directory (adapter_config.json + adapter_model.safetensors): LoRA, FourierFT, full targets and a reset head as modules_to_save",
  ),
  Command.withExamples([
    {
      command: "peft export runs/lora --format hf-peft --out runs/lora-hf",
      description: "load it with peft.PeftModel.from_pretrained(timm_model, 'runs/lora-hf')",
    },
  ]),
);

const importFlags = {
  dir: positional("DIR", "a Hugging Face PEFT adapter directory (adapter_config.json, adapter_model.safetensors)"),
  format,
  weights: required(text("weights", "CHECKPOINT"), 'the timm ViT the adapter was trained on ("default": the embedded demo backbone, as in experiments)'),
  arch,
  out: required(text("out", "ADAPTER.safetensors"), "the adapter file to write (a new file), for peft forward --adapter"),
  backend: backend(),
};

/** A Hugging Face PEFT adapter directory (LoRA, FourierFT) for a timm ViT as our adapter file. */
export const importHf = Command.make(
  "import",
  importFlags,
  exitCode((args: Command.Command.Config.Infer<typeof importFlags>) =>
    withInput(
      () => {
        const dir = resolve(args.dir);
        const out = newFilePath("--out", args.out);
        const base = readBackboneFile(backbonePath(args.weights, process.cwd()), "--weights", "", archOption(args.arch));
        const config = readJson(join(dir, "adapter_config.json"), "DIR (adapter_config.json)") as Record<string, unknown>;
        const file = readSafetensors(
          readInputFile(join(dir, "adapter_model.safetensors"), "DIR (adapter_model.safetensors)"),
          join(dir, "adapter_model.safetensors"),
        );
        return { imported: fromHfPeft(config, file, base), out, backend: args.backend };
      },
      ({ imported, out, backend }) =>
        runCommand(
          Effect.gen(function* () {
            const program = yield* Effect.acquireRelease(
              attempt(() => {
                const p = compile(imported.method, imported.backbone, { seed: 0 });
                p.setValues(imported.values);
                return p;
              }),
              (p) => Effect.sync(() => p.dispose()),
            );
            const bytes = yield* Effect.promise(() => adapterBytes(program, imported.head));
            yield* attempt(() => writeFileAtomic(out, bytes));
            process.stdout.write(`wrote ${program.params.length} adapter tensors (${imported.method.targets.length} targets) to ${out}\n`);
          }),
          backend,
        ),
    ),
  ),
).pipe(
  Command.withDescription("a Hugging Face PEFT adapter directory (LoRA, FourierFT) for a timm ViT as our adapter file"),
  Command.withExamples([
    {
      command: "peft import --format hf-peft lora-hf --weights ViT-B_16.npz --out lora.safetensors",
      description: "then peft forward --weights ViT-B_16.npz --adapter lora.safetensors …",
    },
  ]),
);
