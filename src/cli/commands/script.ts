import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, Flag } from "effect/cli";
import { integer, optional, text, positional, required } from "../flags.js";
import { readJson } from "../readInput.js";
import { exitCode, withInput } from "../runCommand.js";
import { decodeSweep, expandSweep } from "../../sweep/sweep.js";
import { localScripts, slurmScripts, type SlurmOptions } from "../../sweep/scripts.js";
import { BadInput } from "../../train/errors.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";
import { packageRoot } from "../../util/packageRoot.js";

/** A Slurm flag's value, checked against the form Slurm takes, so a typo fails here and not in the queue. */
const slurmValue = (name: string, metavar: string, form: RegExp, expected: string, description: string) =>
  optional(
    text(`slurm-${name}`, metavar).pipe(
      Flag.filter(
        (v) => form.test(v),
        () => expected,
      ),
    ),
    description,
  );

const slurmFlags = {
  time: slurmValue("time", "TIME", /^(\d+-)?\d+(:\d{2}){0,2}$/, "a Slurm time such as 45, 2:00:00 or 1-12:00:00", "#SBATCH --time of each task"),
  mem: slurmValue("mem", "SIZE", /^\d+[KMGT]?$/, "a size such as 8G or 16000M", "#SBATCH --mem of each task"),
  cpus: optional(integer("slurm-cpus", 1), "#SBATCH --cpus-per-task, also the task's wasm threads (default: 2)"),
  partition: slurmValue("partition", "NAME", /^[A-Za-z0-9_.,-]+$/, "a partition name", "#SBATCH --partition"),
  account: slurmValue("account", "NAME", /^[A-Za-z0-9_.-]+$/, "an account name", "#SBATCH --account"),
  throttle: optional(integer("slurm-throttle", 1), "at most K tasks of the array at once (--array=…%K)"),
  setup: text("slurm-setup", "LINE").pipe(
    Flag.atLeast(0),
    Flag.withDescription("a shell line each task runs first, such as 'module load nodejs' (repeatable)"),
  ),
};
type SlurmFlags = Command.Command.Config.Infer<typeof slurmFlags>;

const slurmOptions = (f: SlurmFlags, dir: string): SlurmOptions => ({
  dir,
  cpus: f.cpus ?? 2,
  setup: f.setup,
  ...(f.time === undefined ? {} : { time: f.time }),
  ...(f.mem === undefined ? {} : { mem: f.mem }),
  ...(f.partition === undefined ? {} : { partition: f.partition }),
  ...(f.account === undefined ? {} : { account: f.account }),
  ...(f.throttle === undefined ? {} : { throttle: f.throttle }),
});

const flags = {
  file: positional("SWEEP.json", "the sweep file"),
  target: required(Flag.Literals("target", ["local", "slurm"]), "a script per experiment and run-all.sh (local), or one Slurm job array (slurm)"),
  out: required(text("out", "DIR"), "a new directory for the scripts, experiments/, logs/, manifest.json and gather.sh"),
  peft: optional(text("peft", "MAIN.js"), "the peft the scripts run (default: this installation's; PEFT_MAIN overrides it when they run)"),
  ...slurmFlags,
};

/** Write runnable scripts for a sweep's experiments: one per experiment (local) or one job array (Slurm). */
export const script = Command.make(
  "script",
  flags,
  exitCode(({ file, target, out: outFlag, peft: peftFlag, ...slurm }: Command.Command.Config.Infer<typeof flags>) =>
    withInput(
      () => {
        const out = resolve(outFlag);
        if (existsSync(join(out, "manifest.json"))) throw new BadInput({ lines: [`--out ${out} already holds generated scripts; choose another directory`] });
        const spec = decodeSweep(readJson(file), file);
        const jobs = expandSweep(spec, dirname(resolve(file)), readJson);
        if (target === "local" && Object.values(slurm).some((v) => v !== undefined && !(Array.isArray(v) && v.length === 0)))
          throw new BadInput({ lines: ["--slurm-* flags are for --target slurm"] });
        // The peft the scripts run: this installation's, or the cluster's own (also PEFT_MAIN when they run).
        const peft = peftFlag === undefined ? join(packageRoot(), "dist", "src", "cli", "main.js") : resolve(peftFlag);
        if (target === "slurm" && !/^[A-Za-z0-9_./+@-]+$/.test(out))
          throw new BadInput({ lines: [`--out: ${out} has characters #SBATCH lines cannot carry (spaces, quotes…); choose a plain path`] });
        const files = target === "local" ? localScripts(spec.name, jobs, peft) : slurmScripts(spec.name, jobs, peft, slurmOptions(slurm, out));
        return { out, target, files, jobs: jobs.length };
      },
      async ({ out, target, files, jobs }) => {
        for (const f of files) {
          const path = join(out, f.path);
          mkdirSync(dirname(path), { recursive: true });
          writeFileAtomic(path, f.text);
          if (f.executable) chmodSync(path, 0o755);
        }
        process.stdout.write(
          `wrote ${files.length} files for ${jobs} experiments to ${out} (${target === "local" ? "run ./run-all.sh, or any <job>.sh" : `sbatch ${join(out, "sweep.sbatch")}, then ./gather.sh`})\n`,
        );
        return 0;
      },
    ),
  ),
).pipe(
  Command.withDescription("write runnable scripts for a sweep: one per experiment (local) or a Slurm job array"),
  Command.withExamples([
    { command: "peft script examples/sweeps/smoke.json --target local --out scripts/smoke", description: "shell scripts to run here, then ./gather.sh" },
    {
      command:
        "peft script examples/sweeps/mini-vtab.json --target slurm --out /scratch/me/mini-vtab --slurm-time 2:00:00 --slurm-mem 8G --slurm-setup 'module load nodejs/20'",
      description: "a Slurm job array; submit with sbatch DIR/sweep.sbatch from anywhere",
    },
  ]),
);
