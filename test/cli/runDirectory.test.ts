import { afterAll, describe, expect, it } from "vitest";
import { tinyLora } from "../support/tinyLora.js";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { peftBin, peftIn } from "../support/peftCli.js";
import { linesWith } from "../support/killWhen.js";
import { lockRunDirectory } from "../../src/train/runDirectory.js";
import { readLog } from "../../src/train/runLog.js";

/* A run directory has one writer; what a killed writer leaves behind never blocks the next. */
const work = mkdtempSync(join(tmpdir(), "peft-rundir-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(work);

const experiment = tinyLora("run directory test", 96, 60, { schedule: { epochs: 3, batchSize: 16, warmupEpochs: 0 }, seed: 1 });
writeFileSync(join(work, "exp.json"), JSON.stringify(experiment));

const waitFor = async (ready: () => boolean) => {
  while (!ready()) await new Promise((r) => setTimeout(r, 20));
};

describe("run directories", () => {
  it("a second writer on a running --out is exit 2 naming the holder; after a SIGKILL, --resume takes the stale lock, drops a torn log line and removes dead writers' temp files", async () => {
    const out = join(work, "run");
    const child = spawn(process.execPath, [peftBin, "train", "exp.json", "--out", out, "--backend", "wasm"], { cwd: work, stdio: "ignore" });
    const gone = new Promise((r) => child.on("close", r));
    await waitFor(() => linesWith(join(out, "log.jsonl"), '"type":"epoch"') >= 1);
    // Held where it is: a fast machine would otherwise finish the run before the kill.
    child.kill("SIGSTOP");
    const second = peft("train", "exp.json", "--out", out, "--resume", "--backend", "wasm");
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`in use by another peft process (pid ${child.pid})`);
    expect(second.stderr).not.toMatch(/\n\s+at /);
    child.kill("SIGKILL");
    await gone;
    expect(existsSync(join(out, ".lock"))).toBe(true);
    // What a full disk and a kill inside an atomic write leave behind.
    appendFileSync(join(out, "log.jsonl"), '{"type":"step","epoch":2,"step":9,"lo');
    writeFileSync(join(out, "merged.safetensors.99999999.0badc0de.tmp"), "partial");
    const resumed = peft("train", "exp.json", "--out", out, "--resume", "--backend", "wasm");
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("dropped 1 torn line");
    // The planted file, and one of the killed run's own when the kill landed inside an atomic write.
    expect(resumed.stderr).toMatch(/removed [12] temporary file/);
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp") || f.startsWith(".lock"))).toEqual([]);
    const log = readLog(readFileSync(join(out, "log.jsonl"), "utf8"));
    expect(log.torn).toBe(0);
    expect(log.records.filter((r) => r.line.includes('"type":"step"'))).toHaveLength(3 * 6);
  });

  it("--resume of a finished run: the same experiment is nothing to do; an edited one is exit 2, never the old result", () => {
    const out = join(work, "run");
    const same = peft("train", "exp.json", "--out", out, "--resume");
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toContain("finished run of this experiment");
    writeFileSync(join(work, "edited.json"), JSON.stringify({ ...experiment, optimizer: { _tag: "AdamW", lr: 0.5 } }));
    const edited = peft("train", "edited.json", "--out", out, "--resume");
    expect(edited.code).toBe(2);
    expect(edited.stderr).toContain("finished run of a different experiment");
  });

  it("a lock: exclusive while its process lives, taken over when it is gone, refused (named) from another host", () => {
    const dir = join(work, "locks");
    const release = lockRunDirectory(dir);
    expect(() => lockRunDirectory(dir)).toThrow(`pid ${process.pid}`);
    release();
    expect(existsSync(join(dir, ".lock"))).toBe(false);
    writeFileSync(join(dir, ".lock"), JSON.stringify({ pid: 99999999, host: hostname() }));
    lockRunDirectory(dir)();
    writeFileSync(join(dir, ".lock"), JSON.stringify({ pid: 1, host: "another-node" }));
    expect(() => lockRunDirectory(dir)).toThrow("on another-node");
  });
});
