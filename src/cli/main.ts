#!/usr/bin/env node
import { count, countUsage, describe, describeUsage } from "./commands/inspect.js";
import { demo, demoUsage } from "./commands/demo.js";
import { forward, forwardUsage } from "./commands/forward.js";
import { laws, lawsUsage } from "./commands/laws.js";
import { pretrain, pretrainUsage } from "./commands/pretrain.js";
import { train, trainUsage } from "./commands/train.js";
import { sweep, sweepUsage } from "./commands/sweep.js";
import { script, scriptUsage } from "./commands/script.js";
import { gather, gatherUsage } from "./commands/gather.js";
import { report, reportUsage } from "./commands/report.js";
import { exportRun, exportUsage, importHf, importUsage } from "./commands/hfPeft.js";
import { exportImages, exportImagesUsage } from "./commands/exportImages.js";

const commands: Record<string, { readonly run: (argv: readonly string[]) => Promise<number>; readonly usage: string; readonly what: string }> = {
  train: { run: train, usage: trainUsage, what: "fine-tune a backbone with a method; writes result.json, adapter/merged safetensors, log.jsonl" },
  count: { run: count, usage: countUsage, what: "trainable parameters of a method, per target, without building tensors" },
  describe: { run: describe, usage: describeUsage, what: "a method's targets, formulas and sites, with totals" },
  laws: { run: laws, usage: lawsUsage, what: "check the property-based laws on a method" },
  forward: { run: forward, usage: forwardUsage, what: "logits of a checkpoint (optionally with an unmerged adapter) on images" },
  pretrain: { run: pretrain, usage: pretrainUsage, what: "train the small demo ViT from scratch on a source task" },
  sweep: { run: sweep, usage: sweepUsage, what: "run methods × parameters × tasks × seeds in worker processes; resumable, one JSONL row per job" },
  script: { run: script, usage: scriptUsage, what: "write runnable scripts for a sweep: one per experiment (local) or a Slurm job array" },
  gather: { run: gather, usage: gatherUsage, what: "collect the finished runs of generated scripts into results.jsonl" },
  export: { run: exportRun, usage: exportUsage, what: "a run's adapter as a Hugging Face PEFT directory (adapter_config.json + adapter_model.safetensors)" },
  import: { run: importHf, usage: importUsage, what: "a Hugging Face PEFT adapter directory (LoRA, FourierFT) for a timm ViT as our adapter file" },
  "export-images": { run: exportImages, usage: exportImagesUsage, what: "an MNIST or mini-VTAB task as PNG files, in the image-folder or the VTAB-1k list layout, to train on as files" },
  report: { run: report, usage: reportUsage, what: "an HTML page and a Markdown table (with SVG plots) from a results file" },
  demo: { run: demo, usage: demoUsage, what: "fine-tune the default backbone on a new task with linear probe, full and LoRA; print a table" },
};

const help = (): string =>
  ["peft — PEFT methods for vision transformers as typed descriptions, compiled to TensorFlow.js", "", "commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(9)} ${c.what}\n            ${c.usage}`),
    "", "exit codes: 0 ok, 1 failure, 2 bad input (nothing written), 3 loss or gradient not finite (last good checkpoint kept)"].join("\n");

// A worker of `peft sweep` has an IPC channel to it: when the sweep dies, the worker stops too.
// The channel must not keep a finished worker alive.
if (process.send !== undefined) {
  process.on("disconnect", () => process.exit(130));
  process.channel?.unref();
}

const [name, ...argv] = process.argv.slice(2);
if (name === undefined || name === "help" || name === "--help" || name === "-h") {
  process.stdout.write(`${help()}\n`);
  process.exitCode = name === undefined ? 2 : 0;
} else if (!commands[name]) {
  process.stderr.write(`peft: unknown command ${JSON.stringify(name)}\n\n${help()}\n`);
  process.exitCode = 2;
} else {
  commands[name]!.run(argv).then((code) => {
    process.exitCode = code;
  });
}
