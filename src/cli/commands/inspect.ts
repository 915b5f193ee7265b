import { parse, onePositional } from "../args.js";
import { readMethodOrExperiment } from "../readInput.js";
import { withInput } from "../runCommand.js";
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

const inspect = (argv: readonly string[], render: (m: Method, c: VitConfig, json: boolean) => string): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, { backbone: { type: "string" }, arch: { type: "string" }, json: { type: "boolean" } });
      const file = readMethodOrExperiment(onePositional(positionals, "method or experiment file"));
      const config = configFor(values.backbone as string | undefined, file, archOption(values.arch));
      return inMethod(file.experiment !== undefined, () => render(file.method, config, values.json === true));
    },
    async (text) => {
      process.stdout.write(`${text}\n`);
      return 0;
    },
  );

export const countUsage = "peft count FILE [--backbone vit-b16|CHECKPOINT [--arch TIMM_NAME]] [--json]";
export const count = (argv: readonly string[]) =>
  inspect(argv, (m, c, json) => {
    const r = countMethod(m, c);
    if (json) return JSON.stringify(r, null, 2);
    const rows = r.targets.map((t) => `  [${t.target}] ${t.description}: ${t.sites} site(s), ${t.trainable.toLocaleString("en-US")}`);
    return [...rows, totals(r)].join("\n");
  });

export const describeUsage = "peft describe FILE [--backbone vit-b16|CHECKPOINT [--arch TIMM_NAME]]";
export const describe = (argv: readonly string[]) => inspect(argv, (m, c) => describeMethod(m, c));
