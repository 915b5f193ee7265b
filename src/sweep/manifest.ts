import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../train/runResult.js";
import { runDirectoryHolder } from "../train/runDirectory.js";
import { recordedFingerprint } from "../train/fingerprint.js";
import { appendRow, failedRow, okRow, readRows, removeRows } from "./results.js";
import type { Job, JobInfo } from "./sweep.js";
import { trainedBackbone } from "./trainedBackbone.js";

/** What a generated script directory records about each job, so its results can be gathered into rows. */
export interface Manifest {
  readonly sweep: string;
  readonly jobs: readonly JobInfo[];
}

export const manifestOf = (sweep: string, jobs: readonly Job[]): Manifest => ({ sweep, jobs: jobs.map(({ experiment: _, ...rest }) => rest) });

/** Where a job of a script directory stands. */
export type JobState = "ok" | "failed" | "stale" | "running" | "stopped" | "not started";

/** An experiment's fingerprint without an image folder's classes: a run records them, the job's file need not. */
const printOf = (experiment: unknown): string | null => {
  const e = experiment as { data?: { _tag?: unknown } } | null;
  const images = e?.data?._tag === "ImageFolder" || e?.data?._tag === "ImageList";
  return recordedFingerprint(images ? { ...e, data: { ...e.data, classes: undefined } } : e);
};

/** A JSON file's value, or why it could not be read. */
const readJsonFile = (path: string): { readonly value: unknown } | { readonly error: string } => {
  try {
    return { value: JSON.parse(readFileSync(path, "utf8")) };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

/**
 * Append a row for every job of the manifest whose run has finished (`runs/<name>/result.json`)
 * and that has no ok row yet (a success supersedes an earlier failed row, which is removed). A job
 * without a result is running (its run directory is locked by a live process, or by one on
 * another host), stopped (it started and ended without a result: failed, killed or timed out;
 * its log says why) or not started (it may still be queued). A result of another experiment than
 * the job's file holds now (edited since) is stale: never reported, its rows removed.
 */
export const gatherRows = (
  dir: string,
  manifest: Manifest,
): { added: number; states: readonly { readonly name: string; readonly state: JobState; readonly detail?: string }[] } => {
  const results = join(dir, "results.jsonl");
  const rows = readRows(results);
  const ok = new Set(rows.filter((r) => r.status === "ok").map((r) => r.id));
  let added = 0;
  const states = manifest.jobs.map((job): { name: string; state: JobState; detail?: string } => {
    const runDir = join("runs", job.name);
    const result = join(dir, runDir, "result.json");
    if (!existsSync(result)) {
      if (ok.has(job.id)) return { name: job.name, state: "ok" };
      if (!existsSync(join(dir, runDir))) return { name: job.name, state: "not started" };
      const holder = runDirectoryHolder(join(dir, runDir));
      if (holder !== null) return { name: job.name, state: "running", detail: `pid ${holder.pid} on ${holder.host}` };
      return {
        name: job.name,
        state: "stopped",
        detail: existsSync(join(dir, runDir, "checkpoint.safetensors")) ? "a checkpoint is kept; resubmit to resume" : "no checkpoint",
      };
    }
    const read = readJsonFile(result);
    if ("error" in read) {
      if (!rows.some((r) => r.id === job.id)) {
        appendRow(results, failedRow(job, manifest.sweep, runDir, `unreadable result.json: ${read.error}`));
        added += 1;
      }
      return { name: job.name, state: "failed", detail: "unreadable result.json" };
    }
    const parsed = read.value as RunResult;
    const file = readJsonFile(join(dir, "experiments", `${job.name}.json`));
    const ran = printOf(parsed.experiment);
    if ("value" in file && ran !== null && printOf(file.value) !== ran) {
      removeRows(results, job.id);
      return { name: job.name, state: "stale", detail: `the result is of an earlier experiments/${job.name}.json; delete ${runDir} and resubmit` };
    }
    if (ok.has(job.id)) return { name: job.name, state: "ok" };
    removeRows(results, job.id, "failed");
    appendRow(results, okRow(job, manifest.sweep, runDir, parsed, trainedBackbone(join(dir, runDir))));
    added += 1;
    return { name: job.name, state: "ok" };
  });
  return { added, states };
};
