import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { intFlag, onePositional, parse, requireFlag } from "../args.js";
import { readJson } from "../readInput.js";
import { withInput } from "../runCommand.js";
import { decodeSweep, expandSweep } from "../../sweep/sweep.js";
import { localScripts, slurmScripts, type SlurmOptions } from "../../sweep/scripts.js";
import { BadInput } from "../../train/errors.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";
import { packageRoot } from "../../util/packageRoot.js";

export const scriptUsage = "peft script SWEEP.json --target local|slurm --out DIR [--peft MAIN.js] [--slurm-time 2:00:00] [--slurm-mem 8G] [--slurm-cpus 2] [--slurm-partition P] [--slurm-account A] [--slurm-throttle K] [--slurm-setup 'module load nodejs' …]";

/** A Slurm flag's value, checked against the form Slurm takes, so a typo fails here and not in the queue. */
const slurmValue = (name: string, raw: unknown, form: RegExp, expected: string): string | undefined => {
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !form.test(raw)) throw new BadInput({ lines: [`--slurm-${name}: expected ${expected}, got ${JSON.stringify(raw)}`] });
  return raw;
};

const slurmOptions = (values: Record<string, unknown>, dir: string): SlurmOptions => {
  const time = slurmValue("time", values["slurm-time"], /^(\d+-)?\d+(:\d{2}){0,2}$/, "a Slurm time such as 45, 2:00:00 or 1-12:00:00");
  const mem = slurmValue("mem", values["slurm-mem"], /^\d+[KMGT]?$/, "a size such as 8G or 16000M");
  const partition = slurmValue("partition", values["slurm-partition"], /^[A-Za-z0-9_.,-]+$/, "a partition name");
  const account = slurmValue("account", values["slurm-account"], /^[A-Za-z0-9_.-]+$/, "an account name");
  const throttle = intFlag("slurm-throttle", values["slurm-throttle"], 1);
  return {
    dir, cpus: intFlag("slurm-cpus", values["slurm-cpus"], 1) ?? 2, setup: (values["slurm-setup"] as string[] | undefined) ?? [],
    ...(time === undefined ? {} : { time }), ...(mem === undefined ? {} : { mem }), ...(partition === undefined ? {} : { partition }),
    ...(account === undefined ? {} : { account }), ...(throttle === undefined ? {} : { throttle }),
  };
};

/** Write runnable scripts for a sweep's experiments: one per experiment (local) or one job array (Slurm). */
export const script = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, {
        target: { type: "string" }, out: { type: "string" }, peft: { type: "string" },
        "slurm-time": { type: "string" }, "slurm-mem": { type: "string" }, "slurm-cpus": { type: "string" }, "slurm-partition": { type: "string" },
        "slurm-account": { type: "string" }, "slurm-throttle": { type: "string" }, "slurm-setup": { type: "string", multiple: true },
      });
      const file = onePositional(positionals, `sweep file (${scriptUsage})`);
      const target = requireFlag("target", values.target);
      if (target !== "local" && target !== "slurm") throw new BadInput({ lines: [`--target: expected local or slurm, got ${JSON.stringify(target)}`] });
      const out = resolve(requireFlag("out", values.out));
      if (existsSync(join(out, "manifest.json"))) throw new BadInput({ lines: [`--out ${out} already holds generated scripts; choose another directory`] });
      const spec = decodeSweep(readJson(file), file);
      const jobs = expandSweep(spec, dirname(resolve(file)), readJson);
      if (target === "local" && Object.keys(values).some((k) => k.startsWith("slurm-"))) throw new BadInput({ lines: ["--slurm-* flags are for --target slurm"] });
      // The peft the scripts run: this installation's, or the cluster's own (also PEFT_MAIN when they run).
      const peft = values.peft === undefined ? join(packageRoot(), "dist", "src", "cli", "main.js") : resolve(values.peft as string);
      if (target === "slurm" && !/^[A-Za-z0-9_./+@-]+$/.test(out)) throw new BadInput({ lines: [`--out: ${out} has characters #SBATCH lines cannot carry (spaces, quotes…); choose a plain path`] });
      const files = target === "local" ? localScripts(spec.name, jobs, peft) : slurmScripts(spec.name, jobs, peft, slurmOptions(values, out));
      return { out, target, files, jobs: jobs.length };
    },
    async ({ out, target, files, jobs }) => {
      for (const f of files) {
        const path = join(out, f.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileAtomic(path, f.text);
        if (f.executable) chmodSync(path, 0o755);
      }
      process.stdout.write(`wrote ${files.length} files for ${jobs} experiments to ${out} (${target === "local" ? "run ./run-all.sh, or any <job>.sh" : `sbatch ${join(out, "sweep.sbatch")}, then ./gather.sh`})\n`);
      return 0;
    },
  );
