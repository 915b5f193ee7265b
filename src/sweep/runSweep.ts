import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { availableParallelism } from "node:os";
import { ExperimentCodec } from "../dsl/codecs.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { packageRoot } from "../util/packageRoot.js";
import type { RunResult } from "../train/runResult.js";
import { appendRow, failedRow, okRow, readRows, removeRows } from "./results.js";
import type { Job } from "./sweep.js";
import { trainedBackbone } from "./trainedBackbone.js";
import { runDirectoryHolder } from "../train/runDirectory.js";

export interface SweepOptions {
  readonly outDir: string;
  readonly workers: number;
  readonly backend: string;
  /** Run again the jobs whose row says they failed (by default every job with a row is done). */
  readonly retryFailed: boolean;
  readonly progress: (line: string) => void;
}

export const sweepFiles = (dir: string) => ({ results: join(dir, "results.jsonl"), jobs: join(dir, "jobs"), runs: join(dir, "runs"), logs: join(dir, "logs") });

/**
 * Wait while a live process on this host holds a job's run directory: a worker of an earlier,
 * killed sweep stops at its IPC channel's close, but only once its current step returns, which
 * on a busy machine takes what it takes. The line names the holder, so a user can end it.
 */
const untilReleased = async (runDir: string, name: string, progress: (line: string) => void): Promise<void> => {
  const holder = runDirectoryHolder(runDir);
  if (holder?.alive !== true) return;
  progress(`${name}: waiting for pid ${holder.pid} (a worker of an earlier sweep) to release its run directory`);
  while (runDirectoryHolder(runDir)?.alive === true) await new Promise((r) => setTimeout(r, 100));
};

const tail = (path: string, lines: number): string => (existsSync(path) ? readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n") : "");

/**
 * Run a sweep's pending jobs, `workers` at a time, each as its own `peft train --resume` process
 * (a crash, an exhausted memory, a NaN stays in its process). The parent alone appends rows, one
 * per finished job; jobs with a row are skipped, so rerunning a killed sweep finishes only what
 * is missing, and a job killed mid-run resumes from its checkpoint. A worker whose parent dies
 * exits with it (its IPC channel closes). The caller holds `outDir`'s lock (lockRunDirectory).
 */
export const runSweep = async (sweepName: string, jobs: readonly Job[], o: SweepOptions): Promise<{ ran: number; skipped: number; failed: number }> => {
  const files = sweepFiles(o.outDir);
  for (const d of [o.outDir, files.jobs, files.runs, files.logs]) mkdirSync(d, { recursive: true });
  const done = new Set(
    readRows(files.results)
      .filter((r) => r.status === "ok" || !o.retryFailed)
      .map((r) => r.id),
  );
  const pending = jobs.filter((j) => !done.has(j.id));
  o.progress(
    `${sweepName}: ${jobs.length} jobs, ${jobs.length - pending.length} already done, ${pending.length} to run on ${Math.min(o.workers, Math.max(1, pending.length))} worker(s)`,
  );
  const main = join(packageRoot(), "dist", "src", "cli", "main.js");
  const started = performance.now();
  let finished = 0;
  let failed = 0;
  const children = new Set<ReturnType<typeof spawn>>();
  const stop = () => {
    for (const c of children) c.kill("SIGTERM");
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const runJob = async (job: Job): Promise<void> => {
    const runDir = join(files.runs, job.name);
    await untilReleased(runDir, job.name, o.progress);
    return new Promise((done) => {
      const jobFile = join(files.jobs, `${job.name}.json`);
      const logFile = join(files.logs, `${job.name}.log`);
      writeFileAtomic(jobFile, `${JSON.stringify(ExperimentCodec.encode(job.experiment), null, 2)}\n`);
      const log = openSync(logFile, "a");
      // Workers share the cores: each gets its share of wasm threads.
      const env = { ...process.env, PEFT_WASM_THREADS: process.env.PEFT_WASM_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / o.workers))) };
      const child = spawn(process.execPath, [main, "train", jobFile, "--out", runDir, "--resume", "--backend", o.backend], {
        stdio: ["ignore", log, log, "ipc"],
        env,
      });
      children.add(child);
      child.on("exit", (code, signal) => {
        children.delete(child);
        closeSync(log);
        const result = join(runDir, "result.json");
        const rel = relative(o.outDir, runDir);
        const ok = code === 0 && existsSync(result);
        const row = ok
          ? okRow(job, sweepName, rel, JSON.parse(readFileSync(result, "utf8")) as RunResult, trainedBackbone(runDir))
          : failedRow(job, sweepName, rel, `exit ${code ?? signal}: ${tail(logFile, 4)}`);
        if (ok) removeRows(files.results, job.id, "failed");
        appendRow(files.results, row);
        finished += 1;
        if (!ok) failed += 1;
        const elapsed = (performance.now() - started) / 1000;
        const eta = (elapsed / finished) * (pending.length - finished);
        o.progress(
          `[${finished}/${pending.length}] ${ok ? "ok    " : "FAILED"} ${job.name}${ok ? `: test ${(100 * row.testAccuracy!).toFixed(2)}%` : ` (${row.error!.split("\n")[0]}; log ${relative(o.outDir, logFile)})`}; ETA ${Math.round(eta)} s`,
        );
        done();
      });
    });
  };
  const queue = [...pending];
  await Promise.all(
    Array.from({ length: Math.min(o.workers, queue.length) }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) await runJob(job);
    }),
  );
  process.removeListener("SIGINT", stop);
  process.removeListener("SIGTERM", stop);
  return { ran: pending.length, skipped: jobs.length - pending.length, failed };
};
