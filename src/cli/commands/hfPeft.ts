import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Effect } from "effect";
import { backendFlag, newFileFlag, onePositional, parse, requireFlag } from "../args.js";
import { attempt, runCommand, withInput } from "../runCommand.js";
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
import { readBackboneFile } from "../../train/loadBackbone.js";
import { writeDirectoryAtomic, writeFileAtomic } from "../../util/atomicWrite.js";

export const exportUsage = "peft export RUN_DIR --format hf-peft --out DIR";
export const importUsage = "peft import --format hf-peft DIR --weights CHECKPOINT [--arch TIMM_NAME] --out ADAPTER.safetensors [--backend B]";

const formatFlag = (raw: unknown): void => {
  if (raw !== "hf-peft") throw new BadInput({ lines: [`--format: expected "hf-peft", got ${JSON.stringify(raw ?? null)}`] });
};

/** A run's adapter as a Hugging Face PEFT adapter directory (adapter_config.json + adapter_model.safetensors). */
export const exportRun = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, { format: { type: "string" }, out: { type: "string" } });
      formatFlag(values.format);
      const run = resolve(onePositional(positionals, `run directory (${exportUsage})`));
      const out = resolve(requireFlag("out", values.out));
      if (existsSync(out)) throw new BadInput({ lines: [`--out: ${out} already exists; choose a new directory`] });
      if (!existsSync(dirname(out))) throw new BadInput({ lines: [`--out: the parent folder ${dirname(out)} does not exist`] });
      const adapter = readAdapter(readInputFile(join(run, "adapter.safetensors"), "RUN_DIR (adapter.safetensors)"), join(run, "adapter.safetensors"));
      const merged = readBackbone(readInputFile(join(run, "merged.safetensors"), "RUN_DIR (merged.safetensors)"), join(run, "merged.safetensors"));
      const timmConfig = join(run, "config.json");
      const architecture = existsSync(timmConfig) ? hubConfig(readJson(timmConfig), timmConfig).architecture : (timmHubConfig(merged.config).architecture as string);
      try {
        const hf = toHfPeft(adapter, merged, architecture);
        return { out, hf, type: hf.config.peft_type as string };
      } catch (e) {
        if (!(e instanceof MethodError)) throw e;
        throw new BadInput({ lines: [`${e.message} (${join(run, "merged.safetensors")} holds the adapted model as plain timm weights, with config.json beside it)`] });
      }
    },
    async ({ out, hf, type }) => {
      await writeDirectoryAtomic(out, (dir) => {
        writeFileAtomic(join(dir, "adapter_config.json"), `${JSON.stringify(hf.config, null, 2)}\n`);
        writeFileAtomic(join(dir, "adapter_model.safetensors"), writeSafetensors(hf.tensors, { format: "pt" }));
      });
      process.stdout.write(`wrote ${type} adapter (${hf.tensors.length} tensors) to ${out}\n`);
      return 0;
    },
  );

/** A Hugging Face PEFT adapter directory (LoRA, FourierFT) for a timm ViT as our adapter file. */
export const importHf = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, { format: { type: "string" }, weights: { type: "string" }, arch: { type: "string" }, out: { type: "string" }, backend: { type: "string" } });
      formatFlag(values.format);
      const dir = resolve(onePositional(positionals, `HF PEFT adapter directory (${importUsage})`));
      const out = newFileFlag("out", values.out);
      const base = readBackboneFile(resolve(requireFlag("weights", values.weights)), "--weights", "", typeof values.arch === "string" ? { arch: values.arch } : {});
      const config = readJson(join(dir, "adapter_config.json"), "DIR (adapter_config.json)") as Record<string, unknown>;
      const file = readSafetensors(readInputFile(join(dir, "adapter_model.safetensors"), "DIR (adapter_model.safetensors)"), join(dir, "adapter_model.safetensors"));
      return { imported: fromHfPeft(config, file, base), out, backend: backendFlag(values.backend) };
    },
    ({ imported, out, backend }) =>
      runCommand(
        Effect.gen(function* () {
          const program = yield* Effect.acquireRelease(attempt(() => {
            const p = compile(imported.method, imported.backbone, { seed: 0 });
            p.setValues(imported.values);
            return p;
          }), (p) => Effect.sync(() => p.dispose()));
          const bytes = yield* Effect.promise(() => adapterBytes(program, imported.head));
          yield* attempt(() => writeFileAtomic(out, bytes));
          process.stdout.write(`wrote ${program.params.length} adapter tensors (${imported.method.targets.length} targets) to ${out}\n`);
        }),
        backend,
      ),
  );
