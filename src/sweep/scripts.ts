import { ExperimentCodec } from "../dsl/codecs.js";
import type { Job } from "./sweep.js";
import { manifestOf } from "./manifest.js";

/** A file to write, relative to the script directory; `executable` for the shell scripts. */
export interface ScriptFile {
  readonly path: string;
  readonly text: string;
  readonly executable: boolean;
}

/** A word the shell takes literally, whatever it holds (single quotes; a quote inside as '\''). */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * A `#` comment line holding user text (a sweep or method name): control characters are written
 * as escapes, so a newline in a name cannot end the comment and start a command or an #SBATCH line.
 */
const comment = (text: string): string => `# ${text.replace(/[\p{Cc}\u2028\u2029]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}`;

const header = (lines: readonly string[]) => ["#!/usr/bin/env bash", ...lines.map(comment), "set -euo pipefail", 'cd "$(dirname "$0")"'];

/** How the scripts call peft: this installation's CLI, unless PEFT_MAIN names another (a cluster's own install). */
const peftLine = (peft: string) => `[ -n "\${PEFT_MAIN:-}" ] || PEFT_MAIN=${quote(peft)}`;

const describe = (j: Job) => `${j.method}${Object.keys(j.params).length > 0 ? ` ${JSON.stringify(j.params)}` : ""} on ${j.task}, seed ${j.seed} (job ${j.id})`;

/** Every job's experiment, pinned as data: a result traces back to its exact method through this file and its fingerprint. */
const experiments = (jobs: readonly Job[]): ScriptFile[] =>
  jobs.map((j) => ({ path: `experiments/${j.name}.json`, text: `${JSON.stringify(ExperimentCodec.encode(j.experiment), null, 2)}\n`, executable: false }));

const common = (sweep: string, jobs: readonly Job[], peft: string): ScriptFile[] => [
  ...experiments(jobs),
  { path: "manifest.json", text: `${JSON.stringify(manifestOf(sweep, jobs), null, 2)}\n`, executable: false },
  {
    path: "gather.sh",
    text: [
      ...header([`Gather the finished runs of ${sweep} into results.jsonl (one row per job; rerun as runs finish).`]),
      peftLine(peft),
      'node "$PEFT_MAIN" gather .',
      "",
    ].join("\n"),
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
      ...header([
        `${sweep}: ${describe(j)}`,
        `The experiment, method included, is experiments/${j.name}.json; extra arguments go to peft train (e.g. --backend wasm).`,
      ]),
      peftLine(peft),
      `node "$PEFT_MAIN" train ${quote(`experiments/${j.name}.json`)} --out ${quote(`runs/${j.name}`)} --resume "$@"`,
      "",
    ].join("\n"),
    executable: true,
  })),
  {
    path: "run-all.sh",
    text: [
      ...header([`Run the ${jobs.length} experiments of ${sweep} one after another, then gather the results.`]),
      ...jobs.map((j) => `./${quote(`${j.name}.sh`)} "$@"`),
      "./gather.sh",
      "",
    ].join("\n"),
    executable: true,
  },
];

/** What a cluster asks of a job, set when the scripts are generated (absent: the cluster's defaults). */
export interface SlurmOptions {
  /** The directory the scripts are written to, absolute: Slurm copies the script away, so it cannot find its own folder. */
  readonly dir: string;
  readonly cpus: number;
  readonly time?: string;
  readonly mem?: string;
  readonly partition?: string;
  readonly account?: string;
  /** At most this many tasks at once (`--array=0-N%K`). */
  readonly throttle?: number;
  /** Shell lines run before peft in every task (`module load nodejs`, a virtual environment…). */
  readonly setup: readonly string[];
}

/**
 * Slurm: one job array with one task per grid point; task i runs experiment i and writes its own
 * run directory (result.json inside); gather.sh turns the finished ones into results.jsonl. The
 * task works in the generated directory whatever directory `sbatch` was called from, and each
 * submission logs to its own file (`%A`, the array's job id).
 */
export const slurmScripts = (sweep: string, jobs: readonly Job[], peft: string, o: SlurmOptions): ScriptFile[] => [
  ...common(sweep, jobs, peft),
  { path: "logs/.keep", text: "", executable: false },
  {
    path: "sweep.sbatch",
    text: [
      "#!/usr/bin/env bash",
      `#SBATCH --job-name=${sweep.replace(/[^A-Za-z0-9_-]/g, "_")}`,
      `#SBATCH --array=0-${jobs.length - 1}${o.throttle === undefined ? "" : `%${o.throttle}`}`,
      `#SBATCH --cpus-per-task=${o.cpus}`,
      `#SBATCH --chdir=${o.dir}`,
      `#SBATCH --output=${o.dir}/logs/%x-%A_%a.out`,
      ...(o.time === undefined ? [] : [`#SBATCH --time=${o.time}`]),
      ...(o.mem === undefined ? [] : [`#SBATCH --mem=${o.mem}`]),
      ...(o.partition === undefined ? [] : [`#SBATCH --partition=${o.partition}`]),
      ...(o.account === undefined ? [] : [`#SBATCH --account=${o.account}`]),
      comment(`${sweep}: ${jobs.length} experiments, one array task each. Submit from anywhere: sbatch ${o.dir}/sweep.sbatch`),
      "# One task again: sbatch --array=K sweep.sbatch. When tasks finish: ./gather.sh (writes results.jsonl).",
      "set -euo pipefail",
      `cd ${quote(o.dir)}`,
      ...o.setup,
      peftLine(peft),
      // Each task uses the cores it was given.
      'export PEFT_WASM_THREADS="${PEFT_WASM_THREADS:-${SLURM_CPUS_PER_TASK:-1}}"',
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
