import { Command } from "effect/cli";
import { arch, backbone, positional, toggle } from "../flags.js";
import { methodReader } from "../readInput.js";
import { exitCode, withInput } from "../runCommand.js";
import { countMethod } from "../../interpreters/count.js";
import { describeMethod, totals } from "../../interpreters/describe.js";
import type { VitConfig } from "../../models/vitConfig.js";
import { archOption, configFor } from "../backboneConfig.js";
import { BadInput } from "../../train/errors.js";
import { MethodError } from "../../interpreters/methodError.js";
import type { Method } from "../../dsl/method.js";

const inMethod = <A>(fromExperiment: boolean, f: () => A): A => {
  try {
    return f();
  } catch (e) {
    if (e instanceof MethodError && fromExperiment) throw new BadInput({ lines: [`method.${e.message}`] });
    throw e;
  }
};

const inspectFlags = {
  file: positional(
    "FILE",
    "a method or an experiment: a JSON file (see examples/methods/, examples/experiments/), or a JavaScript module whose default export is one",
  ),
  backbone,
  arch,
};
type InspectArgs = Command.Command.Config.Infer<typeof inspectFlags>;

const inspect = async (args: InspectArgs, render: (m: Method, c: VitConfig) => string): Promise<number> => {
  const read = await methodReader(args.file);
  return withInput(
    () => {
      const file = read();
      const config = configFor(args.backbone, file, archOption(args.arch));
      return inMethod(file.experiment !== undefined, () => render(file.method, config));
    },
    async (text) => {
      process.stdout.write(`${text}\n`);
      return 0;
    },
  );
};

const countFlags = { ...inspectFlags, json: toggle("json", "print the counts as JSON") };

export const count = Command.make(
  "count",
  countFlags,
  exitCode((args: Command.Command.Config.Infer<typeof countFlags>) =>
    inspect(args, (m, c) => {
      const r = countMethod(m, c);
      if (args.json) return JSON.stringify(r, null, 2);
      const rows = r.targets.map((t) => `  [${t.target}] ${t.description}: ${t.sites} site(s), ${t.trainable.toLocaleString("en-US")}`);
      return [...rows, totals(r)].join("\n");
    }),
  ),
).pipe(
  Command.withDescription("trainable parameters of a method, per target, without building tensors"),
  Command.withExamples([
    { command: "peft count examples/methods/lora.json --backbone vit-b16", description: "LoRA's parameters on ViT-B/16" },
    { command: "peft count examples/experiments/fourierft.json --json", description: "against the experiment's own backbone, as JSON" },
  ]),
);

export const describe = Command.make(
  "describe",
  inspectFlags,
  exitCode((args: InspectArgs) => inspect(args, (m, c) => describeMethod(m, c))),
).pipe(
  Command.withDescription("a method's targets, formulas and sites, with totals"),
  Command.withExamples([{ command: "peft describe examples/methods/daf.json --backbone vit-b16", description: "what DAF adapts in ViT-B/16, and how" }]),
);
