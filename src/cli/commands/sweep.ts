import { dirname, resolve } from "node:path";
import { backendFlag, intFlag, onePositional, parse, requireFlag } from "../args.js";
import { readJson } from "../readInput.js";
import { withInput } from "../runCommand.js";
import { decodeSweep, expandSweep } from "../../sweep/sweep.js";
import { runSweep } from "../../sweep/runSweep.js";

export const sweepUsage = "peft sweep FILE.json --out DIR [--workers N] [--backend B] [--retry-failed] [--dry-run]";

/** Expand a sweep, then run its missing jobs in worker processes; rows go to DIR/results.jsonl. */
export const sweep = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, {
        out: { type: "string" }, workers: { type: "string" }, backend: { type: "string" }, "retry-failed": { type: "boolean" }, "dry-run": { type: "boolean" },
      });
      const file = onePositional(positionals, `sweep file (${sweepUsage})`);
      const out = resolve(requireFlag("out", values.out));
      const spec = decodeSweep(readJson(file), file);
      const jobs = expandSweep(spec, dirname(resolve(file)), readJson);
      const workers = intFlag("workers", values.workers, 1) ?? spec.workers;
      return { spec, jobs, out, workers, backend: backendFlag(values.backend), retryFailed: values["retry-failed"] === true, dryRun: values["dry-run"] === true };
    },
    async (input) => {
      if (input.dryRun) {
        for (const j of input.jobs) process.stdout.write(`${j.id}  ${j.name}\n`);
        process.stdout.write(`${input.jobs.length} jobs\n`);
        return 0;
      }
      const r = await runSweep(input.spec.name, input.jobs, {
        outDir: input.out, workers: input.workers, backend: input.backend, retryFailed: input.retryFailed, progress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${input.spec.name}: ran ${r.ran} job(s), ${r.failed} failed, ${r.skipped} already done; rows in ${input.out}/results.jsonl\n`);
      return r.failed > 0 ? 1 : 0;
    },
  );
