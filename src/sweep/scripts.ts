import { ExperimentCodec } from "../dsl/codecs.js";
import type { Job } from "./sweep.js";
import { manifestOf } from "./manifest.js";

/** A file to write, relative to the script directory; `executable` for the shell scripts. */
export interface ScriptFile {
  readonly path: string;
  readonly text: string;
  readonly executable: boolean;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const header = (lines: readonly string[]) => ["#!/usr/bin/env bash", ...lines.map((l) => `# ${l}`), "set -euo pipefail", 'cd "$(dirname "$0")"'];

/** How the scripts call peft: this installation's CLI, unless PEFT_MAIN names another (a cluster's own install). */
const peftLine = (peft: string) => `PEFT_MAIN="\${PEFT_MAIN:-${peft.replace(/["\\$`]/g, "\\$&")}}"`;

const describe = (j: Job) => `${j.method}${Object.keys(j.params).length > 0 ? ` ${JSON.stringify(j.params)}` : ""} on ${j.task}, seed ${j.seed} (job ${j.id})`;

/** Every job's experiment, pinned as data: a result traces back to its exact method through this file and its fingerprint. */
const experiments = (jobs: readonly Job[]): ScriptFile[] =>
  jobs.map((j) => ({ path: `experiments/${j.name}.json`, text: `${JSON.stringify(ExperimentCodec.encode(j.experiment), null, 2)}\n`, executable: false }));

const common = (sweep: string, jobs: readonly Job[], peft: string): ScriptFile[] => [
  ...experiments(jobs),
  { path: "manifest.json", text: `${JSON.stringify(manifestOf(sweep, jobs), null, 2)}\n`, executable: false },
  {
    path: "gather.sh",
    text: [...header([`Gather the finished runs of ${sweep} into results.jsonl (one row per job; rerun as runs finish).`]), peftLine(peft), 'node "$PEFT_MAIN" gather .', ""].join("\n"),
    executable: true,
  },
];

/**
 * Local scripts: one standalone script per experiment (read it, edit its JSON, run it), and
 * run-all.sh that runs them in turn and gathers the results. Every run resumes if interrupted.
 */
export const localScripts = (sweep: string, jobs: readonly Job[], peft: string): ScriptFile[] => [
  ...common(sweep, jobs, peft),
  ...jobs.map((j) => ({
    path: `${j.name}.sh`,
    text: [
      ...header([`${sweep}: ${describe(j)}`, `The experiment, method included, is experiments/${j.name}.json; extra arguments go to peft train (e.g. --backend wasm).`]),
      peftLine(peft),
      `node "$PEFT_MAIN" train ${quote(`experiments/${j.name}.json`)} --out ${quote(`runs/${j.name}`)} --resume "$@"`,
      "",
    ].join("\n"),
    executable: true,
  })),
  {
    path: "run-all.sh",
    text: [...header([`Run the ${jobs.length} experiments of ${sweep} one after another, then gather the results.`]), ...jobs.map((j) => `./${quote(`${j.name}.sh`)} "$@"`), "./gather.sh", ""].join("\n"),
    executable: true,
  },
];

/**
 * Slurm: one job array with one task per grid point; task i runs experiment i and writes its own
 * run directory (result.json inside); gather.sh turns the finished ones into results.jsonl.
 */
export const slurmScripts = (sweep: string, jobs: readonly Job[], peft: string): ScriptFile[] => [
  ...common(sweep, jobs, peft),
  {
    path: "sweep.sbatch",
    text: [
      "#!/usr/bin/env bash",
      `#SBATCH --job-name=${sweep.replace(/[^A-Za-z0-9_-]/g, "_")}`,
      `#SBATCH --array=0-${jobs.length - 1}`,
      "#SBATCH --cpus-per-task=2",
      "#SBATCH --output=logs/%x-%a.out",
      `# ${sweep}: ${jobs.length} experiments, one array task each. Submit with: mkdir -p logs && sbatch sweep.sbatch`,
      "# When tasks finish: ./gather.sh (writes results.jsonl).",
      "set -euo pipefail",
      'cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")}"',
      peftLine(peft),
      "JOBS=(",
      ...jobs.map((j) => `  ${quote(j.name)}`),
      ")",
      'NAME="${JOBS[$SLURM_ARRAY_TASK_ID]}"',
      'node "$PEFT_MAIN" train "experiments/$NAME.json" --out "runs/$NAME" --resume "$@"',
      "",
    ].join("\n"),
    executable: true,
  },
];
