import { join, resolve } from "node:path";
import { Command } from "effect/cli";
import { positional } from "../flags.js";
import { readJson } from "../readInput.js";
import { exitCode, withInput } from "../runCommand.js";
import { gatherRows, type Manifest } from "../../sweep/manifest.js";

/** Turn the finished runs of a generated script directory into rows of SCRIPT_DIR/results.jsonl. */
export const gather = Command.make(
  "gather",
  { dir: positional("SCRIPT_DIR", "a directory written by peft script") },
  exitCode((args: { readonly dir: string }) =>
    withInput(
      () => {
        const dir = resolve(args.dir);
        return { dir, manifest: readJson(join(dir, "manifest.json")) as Manifest };
      },
      async ({ dir, manifest }) => {
        const r = gatherRows(dir, manifest);
        const open = r.states.filter((s) => s.state !== "ok");
        for (const s of open) process.stdout.write(`  ${s.state.padEnd(11)} ${s.name}${s.detail === undefined ? "" : ` (${s.detail})`}\n`);
        const failed = open.filter((s) => s.state === "failed" || s.state === "stopped" || s.state === "stale").length;
        process.stdout.write(
          `${manifest.sweep}: ${r.added} new row(s) in ${join(dir, "results.jsonl")}; ${r.states.length - open.length} of ${r.states.length} job(s) done, ${failed} failed, stopped or stale, ${open.length - failed} running or not started\n`,
        );
        // Failed jobs are an error a script must see; pending ones are not.
        return failed > 0 ? 1 : 0;
      },
    ),
  ),
).pipe(
  Command.withDescription(
    "collect the finished runs of generated scripts into SCRIPT_DIR/results.jsonl; name each job not done and its state (exit 1 if any failed, stopped or is stale)",
  ),
  Command.withExamples([{ command: "peft gather scripts/smoke", description: "after the scripts (or the Slurm array) ran" }]),
);
