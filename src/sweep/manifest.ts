import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../train/runExperiment.js";
import { runDirectoryHolder } from "../train/runDirectory.js";
import { appendRow, failedRow, okRow, readRows, removeFailedRows } from "./results.js";
import type { Job, JobInfo } from "./sweep.js";

/** What a generated script directory records about each job, so its results can be gathered into rows. */
export interface Manifest {
  readonly sweep: string;
  readonly jobs: readonly JobInfo[];
}

export const manifestOf = (sweep: string, jobs: readonly Job[]): Manifest => ({ sweep, jobs: jobs.map(({ experiment: _, ...rest }) => rest) });

/** Where a job of a script directory stands. */
export type JobState = "ok" | "failed" | "running" | "stopped" | "not started";

/**
 * Append a row for every job of the manifest whose run has finished (`runs/<name>/result.json`)
 * and that has no ok row yet (a success supersedes an earlier failed row, which is removed). A job
 * without a result is running (its run directory is locked by a live process, or by one on
 * another host), stopped (it started and ended without a result: failed, killed or timed out;
 * its log says why) or not started (it may still be queued).
 */
export const gatherRows = (dir: string, manifest: Manifest): { added: number; states: readonly { readonly name: string; readonly state: JobState; readonly detail?: string }[] } => {
  const results = join(dir, "results.jsonl");
  const rows = readRows(results);
  const ok = new Set(rows.filter((r) => r.status === "ok").map((r) => r.id));
  let added = 0;
  const states = manifest.jobs.map((job): { name: string; state: JobState; detail?: string } => {
    if (ok.has(job.id)) return { name: job.name, state: "ok" };
    const runDir = join("runs", job.name);
    const result = join(dir, runDir, "result.json");
    if (!existsSync(result)) {
      if (!existsSync(join(dir, runDir))) return { name: job.name, state: "not started" };
      const holder = runDirectoryHolder(join(dir, runDir));
      if (holder !== null) return { name: job.name, state: "running", detail: `pid ${holder.pid} on ${holder.host}` };
      return { name: job.name, state: "stopped", detail: existsSync(join(dir, runDir, "checkpoint.safetensors")) ? "a checkpoint is kept; resubmit to resume" : "no checkpoint" };
    }
    let parsed: RunResult;
    try {
      parsed = JSON.parse(readFileSync(result, "utf8")) as RunResult;
    } catch (e) {
      if (!rows.some((r) => r.id === job.id)) {
        appendRow(results, failedRow(job, manifest.sweep, runDir, `unreadable result.json: ${(e as Error).message}`));
        added += 1;
      }
      return { name: job.name, state: "failed", detail: "unreadable result.json" };
    }
    removeFailedRows(results, job.id);
    appendRow(results, okRow(job, manifest.sweep, runDir, parsed));
    added += 1;
    return { name: job.name, state: "ok" };
  });
  return { added, states };
};
