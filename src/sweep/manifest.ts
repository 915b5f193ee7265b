import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../train/runExperiment.js";
import { appendRow, failedRow, okRow, readRows } from "./results.js";
import type { Job, JobInfo } from "./sweep.js";

/** What a generated script directory records about each job, so its results can be gathered into rows. */
export interface Manifest {
  readonly sweep: string;
  readonly jobs: readonly JobInfo[];
}

export const manifestOf = (sweep: string, jobs: readonly Job[]): Manifest => ({ sweep, jobs: jobs.map(({ experiment: _, ...rest }) => rest) });

/**
 * Append a row for every job of the manifest whose run has finished (`runs/<name>/result.json`)
 * and that has no row yet; a job without a result is reported as missing, not failed (it may
 * still be queued). Returns how many rows were added and which jobs have no result.
 */
export const gatherRows = (dir: string, manifest: Manifest): { added: number; missing: string[] } => {
  const results = join(dir, "results.jsonl");
  const have = new Set(readRows(results).map((r) => r.id));
  let added = 0;
  const missing: string[] = [];
  for (const job of manifest.jobs) {
    if (have.has(job.id)) continue;
    const runDir = join("runs", job.name);
    const result = join(dir, runDir, "result.json");
    if (!existsSync(result)) {
      missing.push(job.name);
      continue;
    }
    let parsed: RunResult | null = null;
    try {
      parsed = JSON.parse(readFileSync(result, "utf8")) as RunResult;
    } catch (e) {
      appendRow(results, failedRow(job, manifest.sweep, runDir, `unreadable result.json: ${(e as Error).message}`));
      added += 1;
      continue;
    }
    appendRow(results, okRow(job, manifest.sweep, runDir, parsed));
    added += 1;
  }
  return { added, missing };
};
