import { decodeWith } from "../util/codecKit.js";
import { appendFileSync, existsSync, readFileSync, truncateSync } from "node:fs";
import * as t from "io-ts";
import { isLeft } from "fp-ts/lib/Either.js";

import { BadInput } from "../train/errors.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import type { RunResult } from "../train/runResult.js";
import type { JobInfo } from "./sweep.js";

/** One finished job, one line of a results file. */
export interface Row {
  readonly id: string;
  readonly name: string;
  readonly sweep: string;
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly task: string;
  readonly group: string;
  readonly seed: number;
  readonly status: "ok" | "failed";
  /** Where the run's files are, relative to the results file. */
  readonly runDir: string;
  readonly testAccuracy?: number;
  readonly valAccuracy?: number;
  readonly trainable?: number;
  readonly trainablePercent?: number;
  readonly trainSeconds?: number;
  readonly reconfigureSeconds?: number;
  readonly sim?: number;
  /** Per epoch: training loss and validation accuracy (the report's training curves; null, NaN before it is written, without a validation set). */
  readonly curve?: readonly { readonly epoch: number; readonly trainLoss: number; readonly valAccuracy: number | null }[];
  /** The experiment as the run recorded it (an image source's class names left out): the report states the setup from it. */
  readonly experiment?: unknown;
  /** The trained backbone's shape (image, channels, patch, width, depth, heads…), from the run's merged weights. */
  readonly backbone?: Readonly<Record<string, unknown>>;
  /** Why a failed job failed: the exit code and the last lines it wrote. */
  readonly error?: string;
  readonly finishedAt: string;
}

/** The job a row is about, as every row starts. */
const jobFields = (job: JobInfo, sweep: string) => ({
  id: job.id,
  name: job.name,
  sweep,
  method: job.method,
  params: job.params,
  task: job.task,
  group: job.group,
  seed: job.seed,
});

/** Without an image source's class names, which can run to thousands. */
const recorded = (experiment: unknown): unknown => {
  const e = experiment as { data?: Record<string, unknown> } | null;
  return typeof e?.data === "object" && e.data !== null ? { ...e, data: { ...e.data, classes: undefined } } : experiment;
};

/** The row of a finished job; `backbone` is what trainedBackbone read from its run directory. */
export const okRow = (job: JobInfo, sweep: string, runDir: string, r: RunResult, backbone: Readonly<Record<string, unknown>> | null): Row => ({
  ...jobFields(job, sweep),
  status: "ok",
  runDir,
  testAccuracy: r.metrics.testAccuracy,
  valAccuracy: r.metrics.valAccuracy,
  trainable: r.trainable,
  trainablePercent: r.trainablePercent,
  trainSeconds: r.timings.trainSeconds,
  ...(r.timings.reconfigureSeconds > 0 ? { reconfigureSeconds: r.timings.reconfigureSeconds } : {}),
  ...(r.representation ? { sim: r.representation.sim } : {}),
  curve: r.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, valAccuracy: h.valAccuracy })),
  experiment: recorded(r.experiment),
  ...(backbone === null ? {} : { backbone }),
  finishedAt: new Date().toISOString(),
});

export const failedRow = (job: JobInfo, sweep: string, runDir: string, error: string): Row => ({
  ...jobFields(job, sweep),
  status: "failed",
  runDir,
  error,
  finishedAt: new Date().toISOString(),
});

const number = t.union([t.number, t.null]);
/** What every row must have to be counted (fields a later version adds are kept). */
const RowCodec = t.intersection([
  t.type({
    id: t.string,
    name: t.string,
    sweep: t.string,
    method: t.string,
    params: t.UnknownRecord,
    task: t.string,
    group: t.string,
    seed: t.number,
    status: t.union([t.literal("ok"), t.literal("failed")]),
    runDir: t.string,
    finishedAt: t.string,
  }),
  t.partial({
    testAccuracy: number,
    valAccuracy: number,
    trainable: t.number,
    trainablePercent: t.number,
    trainSeconds: t.number,
    reconfigureSeconds: t.number,
    sim: number,
    curve: t.array(t.type({ epoch: t.number, trainLoss: number, valAccuracy: number })),
    experiment: t.unknown,
    backbone: t.UnknownRecord,
    error: t.string,
  }),
]);

/**
 * The rows of a results file; a last line cut short by a crash is ignored. Any other line that
 * is not JSON or not a row is exit 2 naming its line: a wrong row is never counted as a job.
 */
export const readRows = (path: string): Row[] => {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, "utf8").split("\n");
  return lines.flatMap((line, i) => {
    if (line.trim() === "") return [];
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return [];
      throw new BadInput({ lines: [`${path}:${i + 1}: not JSON; each line must be one result row`] });
    }
    const row = decodeWith(RowCodec, json);
    if (isLeft(row)) throw new BadInput({ lines: [`${path}:${i + 1}: not a result row: ${row.left.slice(0, 3).join("; ")}`] });
    return [row.right as Row];
  });
};

/**
 * Append one row as one write of one line. A line cut short by an earlier crash is dropped first,
 * so the file stays one complete JSON object per line.
 */
export const appendRow = (path: string, row: Row): void => {
  if (existsSync(path)) {
    const text = readFileSync(path, "utf8");
    if (text.length > 0 && !text.endsWith("\n")) truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
  }
  appendFileSync(path, `${JSON.stringify(row)}\n`);
};

/** Drop a job's rows, or only those of one status (rewritten atomically): a later success supersedes its failures; a stale result all. */
export const removeRows = (path: string, id: string, status?: "ok" | "failed"): void => {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  const kept = lines.filter((l) => {
    try {
      const r = JSON.parse(l) as { id?: unknown; status?: unknown };
      return !(r.id === id && (status === undefined || r.status === status));
    } catch {
      return false;
    }
  });
  if (kept.length !== lines.length) writeFileAtomic(path, kept.map((l) => `${l}\n`).join(""));
};
