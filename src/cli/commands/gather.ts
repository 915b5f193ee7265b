import { join, resolve } from "node:path";
import { onePositional, parse } from "../args.js";
import { readJson } from "../readInput.js";
import { withInput } from "../runCommand.js";
import { gatherRows, type Manifest } from "../../sweep/manifest.js";

export const gatherUsage = "peft gather SCRIPT_DIR";

/** Turn the finished runs of a generated script directory into rows of SCRIPT_DIR/results.jsonl. */
export const gather = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { positionals } = parse(argv, {});
      const dir = resolve(onePositional(positionals, `directory written by peft script (${gatherUsage})`));
      return { dir, manifest: readJson(join(dir, "manifest.json")) as Manifest };
    },
    async ({ dir, manifest }) => {
      const r = gatherRows(dir, manifest);
      process.stdout.write(`${manifest.sweep}: ${r.added} new row(s) in ${join(dir, "results.jsonl")}; ${r.missing.length} job(s) without a result yet\n`);
      return 0;
    },
  );
