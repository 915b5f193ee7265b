import { dirname, resolve } from "node:path";
import { Command } from "effect/cli";
import { backend, integer, optional, text, positional, required, toggle } from "../flags.js";
import { readJson } from "../readInput.js";
import { exitCode, withInput } from "../runCommand.js";
import { decodeSweep, expandSweep } from "../../sweep/sweep.js";
import { runSweep } from "../../sweep/runSweep.js";
import { lockRunDirectory } from "../../train/runDirectory.js";

const flags = {
  file: positional("FILE.json", "the sweep: methods × parameters × tasks × seeds (see examples/sweeps/)"),
  out: required(text("out", "DIR"), "where the runs and DIR/results.jsonl go; a sweep run again there skips finished jobs"),
  workers: optional(integer("workers", 1), "worker processes (default: the sweep file's workers)"),
  backend: backend(),
  retryFailed: toggle("retry-failed", "run again the jobs whose last row failed"),
  dryRun: toggle("dry-run", "list the jobs and stop"),
};

/** Expand a sweep, then run its missing jobs in worker processes; rows go to DIR/results.jsonl. */
export const sweep = Command.make(
  "sweep",
  flags,
  exitCode((args: Command.Command.Config.Infer<typeof flags>) =>
    withInput(
      () => {
        const spec = decodeSweep(readJson(args.file), args.file);
        const jobs = expandSweep(spec, dirname(resolve(args.file)), readJson);
        const out = resolve(args.out);
        // One sweep at a time in a directory, as one training in a run directory: two would run the same jobs and append the same rows.
        const release = args.dryRun ? () => {} : lockRunDirectory(out);
        return {
          spec,
          jobs,
          out,
          release,
          workers: args.workers ?? spec.workers,
          backend: args.backend,
          retryFailed: args.retryFailed,
          dryRun: args.dryRun,
        };
      },
      async (input) => {
        if (input.dryRun) {
          for (const j of input.jobs) process.stdout.write(`${j.id}  ${j.name}\n`);
          process.stdout.write(`${input.jobs.length} jobs\n`);
          return 0;
        }
        const r = await runSweep(input.spec.name, input.jobs, {
          outDir: input.out,
          workers: input.workers,
          backend: input.backend,
          retryFailed: input.retryFailed,
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        input.release();
        process.stdout.write(`${input.spec.name}: ran ${r.ran} job(s), ${r.failed} failed, ${r.skipped} already done; rows in ${input.out}/results.jsonl\n`);
        return r.failed > 0 ? 1 : 0;
      },
    ),
  ),
).pipe(
  Command.withDescription("run methods × parameters × tasks × seeds in worker processes; resumable, one JSONL row per job"),
  Command.withExamples([
    { command: "peft sweep examples/sweeps/smoke.json --out runs/smoke --dry-run", description: "the jobs it would run" },
    { command: "peft sweep examples/sweeps/mini-vtab.json --out runs/mini-vtab --workers 2", description: "run them, two at a time" },
  ]),
);
