import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { onePositional, parse, requireFlag } from "../args.js";
import { readJson } from "../readInput.js";
import { withInput } from "../runCommand.js";
import { decodeSweep, expandSweep } from "../../sweep/sweep.js";
import { localScripts, slurmScripts } from "../../sweep/scripts.js";
import { BadInput } from "../../train/errors.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";
import { packageRoot } from "../../util/packageRoot.js";

export const scriptUsage = "peft script SWEEP.json --target local|slurm --out DIR";

/** Write runnable scripts for a sweep's experiments: one per experiment (local) or one job array (Slurm). */
export const script = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, { target: { type: "string" }, out: { type: "string" } });
      const file = onePositional(positionals, `sweep file (${scriptUsage})`);
      const target = requireFlag("target", values.target);
      if (target !== "local" && target !== "slurm") throw new BadInput({ lines: [`--target: expected local or slurm, got ${JSON.stringify(target)}`] });
      const out = resolve(requireFlag("out", values.out));
      if (existsSync(join(out, "manifest.json"))) throw new BadInput({ lines: [`--out ${out} already holds generated scripts; choose another directory`] });
      const spec = decodeSweep(readJson(file), file);
      const jobs = expandSweep(spec, dirname(resolve(file)), readJson);
      const peft = join(packageRoot(), "dist", "src", "cli", "main.js");
      return { out, target, files: target === "local" ? localScripts(spec.name, jobs, peft) : slurmScripts(spec.name, jobs, peft), jobs: jobs.length };
    },
    async ({ out, target, files, jobs }) => {
      for (const f of files) {
        const path = join(out, f.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileAtomic(path, f.text);
        if (f.executable) chmodSync(path, 0o755);
      }
      process.stdout.write(`wrote ${files.length} files for ${jobs} experiments to ${out} (${target === "local" ? "run ./run-all.sh, or any <job>.sh" : "mkdir -p logs && sbatch sweep.sbatch, then ./gather.sh"})\n`);
      return 0;
    },
  );
