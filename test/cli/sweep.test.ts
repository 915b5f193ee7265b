import { afterAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { killWhen, linesWith } from "../support/killWhen.js";

/* `peft sweep` as a user runs it: real worker processes, a real SIGKILL of the sweep, a rerun. */
const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");
const work = mkdtempSync(join(tmpdir(), "peft-sweep-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const tiny = (name: string) => ({ _tag: "MiniVtab", name, split: { _tag: "Vtab1k", train: 48, val: 16 }, testSize: 32 });
const head = { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } };
const sweepFile = (name: string, spec: object): string => {
  const path = join(work, name);
  writeFileSync(
    path,
    JSON.stringify({
      experiment: { optimizer: { _tag: "AdamW", lr: 0.005 }, schedule: { epochs: 1, batchSize: 16 }, metrics: { examples: 0 } },
      ...spec,
    }),
  );
  return path;
};
const rows = (dir: string) =>
  readFileSync(join(dir, "results.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { id: string; status: string; name: string; method: string; error?: string });
const peft = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: "utf8" });

describe("peft sweep", () => {
  const grid = sweepFile("grid.json", {
    name: "grid",
    methods: {
      linear: { method: { targets: [head] } },
      lora: { method: { targets: [{ select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 2, alpha: 2 } }, head] } },
    },
    tasks: [tiny("digits"), tiny("count")],
  });

  it("killed midway, a rerun runs only the missing jobs and the results have one row per job", async () => {
    const out = join(work, "grid");
    await killWhen([bin, "sweep", grid, "--out", out, "--workers", "2", "--backend", "wasm"], work, () => linesWith(join(out, "results.jsonl"), "{") >= 2);
    const before = rows(out).length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(4);
    const r = peft("sweep", grid, "--out", out, "--workers", "2", "--backend", "wasm");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`4 jobs, ${before} already done, ${4 - before} to run`);
    const all = rows(out);
    expect(all).toHaveLength(4);
    expect(new Set(all.map((x) => x.id)).size).toBe(4);
    expect(all.every((x) => x.status === "ok")).toBe(true);
    const again = peft("sweep", grid, "--out", out, "--backend", "wasm");
    expect(again.stdout).toContain("ran 0 job(s), 0 failed, 4 already done");
    // The report states the backbone (the demo ViT's shape) and the recipe of grid.json.
    expect(peft("report", join(out, "results.jsonl"), "--out", join(out, "report")).status).toBe(0);
    const md = readFileSync(join(out, "report", "report.md"), "utf8");
    for (const line of [
      "- **Backbone**: the embedded demo ViT (weights default): 28×28 input, 1 channel, patch 4, width 64, depth 4, 4 heads; head reset to zeros for each task",
      "- **Data**: 48 train and 16 val images, 32 test images; 28×28 grey images",
      "- **Optimizer**: AdamW, lr 0.005, weight decay 0.0001, β₁ 0.9, β₂ 0.999, ε 1e-8",
      "- **Schedule**: 1 epoch of batches of 16, warm-up 0 epochs, then cosine decay to 0",
    ])
      expect(md).toContain(line);
  });

  it("refuses a second sweep on the same --out while one runs there (exit 2, naming its pid); the first finishes alone", async () => {
    const one = sweepFile("one.json", { name: "one", methods: { linear: { method: { targets: [head] } } }, tasks: [tiny("digits")] });
    const out = join(work, "one");
    const first = spawn(process.execPath, [bin, "sweep", one, "--out", out, "--backend", "wasm"], { cwd: work, stdio: "ignore" });
    const exited = new Promise<number | null>((done) => first.on("exit", done));
    // Paused once its worker has started, the first sweep surely still runs when the second starts.
    await new Promise<void>((done, fail) => {
      const timer = setInterval(() => {
        if (first.exitCode !== null) fail(new Error("the first sweep ended before the second started"));
        else if (!existsSync(join(out, "logs")) || readdirSync(join(out, "logs")).length === 0) return;
        else done();
        clearInterval(timer);
      }, 20);
    });
    first.kill("SIGSTOP");
    const second = peft("sweep", one, "--out", out, "--backend", "wasm");
    first.kill("SIGCONT");
    expect(second.status, second.stderr).toBe(2);
    expect(second.stderr).toContain(`is in use by another peft process (pid ${first.pid})`);
    expect(await exited).toBe(0);
    expect(rows(out).map((r) => r.status)).toEqual(["ok"]);
  });

  it("records a crashing job as failed and goes on with the others", () => {
    const broken = sweepFile("broken.json", {
      name: "broken",
      methods: {
        linear: { method: { targets: [head] } },
        missing: { method: { targets: [head] }, grid: { "backbone.weights": ["no-such-backbone.safetensors"] } },
      },
      tasks: [tiny("location")],
    });
    const out = join(work, "broken");
    const r = peft("sweep", broken, "--out", out, "--backend", "wasm");
    expect(r.status).toBe(1);
    const byMethod = new Map(rows(out).map((x) => [x.method, x]));
    expect(byMethod.get("linear")!.status).toBe("ok");
    expect(byMethod.get("missing")!.status).toBe("failed");
    expect(byMethod.get("missing")!.error).toMatch(/^exit 2: .*no such file/s);
  });

  it("rejects a grid path that is not in the experiment, with exit 2 and nothing written", () => {
    const bad = sweepFile("bad.json", {
      methods: { linear: { method: { targets: [head] }, grid: { "method.losses[0].weight": [1] } } },
      tasks: [tiny("digits")],
    });
    const out = join(work, "never");
    const r = peft("sweep", bad, "--out", out);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("methods.linear: method.losses[0].weight does not exist in the experiment");
    expect(existsSync(out)).toBe(false);
  });

  it("writes scripts that run as written: a standalone local script per experiment, and a Slurm array as large as the grid", () => {
    const local = join(work, "local-scripts");
    expect(peft("script", grid, "--target", "local", "--out", local).status).toBe(0);
    const first = readFileSync(join(local, "manifest.json"), "utf8");
    const jobs = (JSON.parse(first) as { jobs: { name: string }[] }).jobs;
    expect(jobs).toHaveLength(4);
    const run = spawnSync(join(local, `${jobs[0]!.name}.sh`), ["--backend", "wasm"], { cwd: tmpdir(), encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(local, "runs", jobs[0]!.name, "result.json"))).toBe(true);
    const gathered = spawnSync(join(local, "gather.sh"), [], { encoding: "utf8" });
    expect(gathered.stdout).toContain("1 new row(s)");
    expect(rows(local).map((r) => r.name)).toEqual([jobs[0]!.name]);
    // The experiment file pins the method as data.
    expect(JSON.parse(readFileSync(join(local, "experiments", `${jobs[0]!.name}.json`), "utf8")).method.targets).toHaveLength(1);
    const slurm = join(work, "slurm-scripts");
    expect(peft("script", grid, "--target", "slurm", "--out", slurm).status).toBe(0);
    const sbatch = join(slurm, "sweep.sbatch");
    expect(spawnSync("bash", ["-n", sbatch]).status).toBe(0);
    expect(spawnSync("bash", ["-n", join(slurm, "gather.sh")]).status).toBe(0);
    const text = readFileSync(sbatch, "utf8");
    expect(text).toContain("#SBATCH --array=0-3");
    expect(text.split("JOBS=(")[1]!.split(")")[0]!.trim().split("\n")).toHaveLength(4);
    expect(peft("script", grid, "--target", "pbs", "--out", join(work, "pbs")).stderr).toContain('--target: "pbs". Expected: "local" | "slurm"');
  });

  it("a Slurm array runs from any directory, with the cluster's settings; gather names every job's state, fails on a stopped one, and a success supersedes a failure", () => {
    const slurm = join(work, "slurm-cluster");
    const made = peft(
      "script",
      grid,
      "--target",
      "slurm",
      "--out",
      slurm,
      "--slurm-time",
      "2:00:00",
      "--slurm-mem",
      "8G",
      "--slurm-cpus",
      "4",
      "--slurm-partition",
      "gpu",
      "--slurm-account",
      "lab",
      "--slurm-throttle",
      "3",
      "--slurm-setup",
      "export PEFT_SETUP_RAN=1",
      "--slurm-setup",
      "echo setup >&2",
      "--peft",
      bin,
    );
    expect(made.status, made.stderr).toBe(0);
    const text = readFileSync(join(slurm, "sweep.sbatch"), "utf8");
    for (const line of [
      "#SBATCH --array=0-3%3",
      "#SBATCH --cpus-per-task=4",
      `#SBATCH --chdir=${slurm}`,
      `#SBATCH --output=${slurm}/logs/%x-%A_%a.out`,
      "#SBATCH --time=2:00:00",
      "#SBATCH --mem=8G",
      "#SBATCH --partition=gpu",
      "#SBATCH --account=lab",
      "export PEFT_SETUP_RAN=1",
    ])
      expect(text).toContain(line);
    expect(existsSync(join(slurm, "logs"))).toBe(true);
    const jobs = (JSON.parse(readFileSync(join(slurm, "manifest.json"), "utf8")) as { jobs: { id: string; name: string }[] }).jobs;
    for (const j of jobs) expect(j.name).toMatch(/^[A-Za-z0-9_.-]+$/);
    // As Slurm runs a task: the script copied to a spool folder, started in the submitting directory.
    const spool = mkdtempSync(join(tmpdir(), "peft-spool-"));
    writeFileSync(join(spool, "slurm_script"), text);
    const task = (id: number) =>
      spawnSync("bash", [join(spool, "slurm_script"), "--backend", "wasm"], {
        cwd: tmpdir(),
        encoding: "utf8",
        env: { ...process.env, SLURM_ARRAY_TASK_ID: String(id), SLURM_SUBMIT_DIR: tmpdir() },
      });
    const first = task(0);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain("setup");
    expect(existsSync(join(slurm, "runs", jobs[0]!.name, "result.json"))).toBe(true);
    // Task 1 stops without a result (its loss diverges: exit 3).
    const exp1 = join(slurm, "experiments", `${jobs[1]!.name}.json`);
    const original = readFileSync(exp1, "utf8");
    writeFileSync(exp1, JSON.stringify({ ...JSON.parse(original), optimizer: { _tag: "AdamW", lr: 1e30 } }));
    expect(task(1).status).toBe(3);
    // An earlier failed row of job 0 (say, from an earlier attempt) is superseded by its success.
    writeFileSync(
      join(slurm, "results.jsonl"),
      `${JSON.stringify({ id: jobs[0]!.id, name: jobs[0]!.name, sweep: "grid", method: "linear", params: {}, task: "digits", group: "g", seed: 0, status: "failed", runDir: "x", error: "exit 1", finishedAt: "then" })}\n`,
    );
    const gathered = spawnSync(join(slurm, "gather.sh"), [], { encoding: "utf8" });
    expect(gathered.status).toBe(1);
    expect(gathered.stdout).toContain(`stopped     ${jobs[1]!.name}`);
    expect(gathered.stdout).toContain(`not started ${jobs[2]!.name}`);
    expect(gathered.stdout).toContain("1 of 4 job(s) done, 1 failed, stopped or stale, 2 running or not started");
    expect(rows(slurm).map((r) => [r.name, r.status])).toEqual([[jobs[0]!.name, "ok"]]);
    // The row records what ran: the demo ViT's shape and the job's experiment.
    const row = JSON.parse(readFileSync(join(slurm, "results.jsonl"), "utf8")) as { backbone: object; experiment: { optimizer: { lr: number } } };
    expect(row.backbone).toMatchObject({ image: 28, channels: 1, patch: 4, width: 64, depth: 4, heads: 4 });
    expect(row.experiment.optimizer.lr).toBe(0.005);
    // Fixed and resubmitted (sbatch --array=1): the run directory holds no result, so it reruns.
    writeFileSync(exp1, original);
    rmSync(join(slurm, "runs", jobs[1]!.name), { recursive: true });
    expect(task(1).status).toBe(0);
    const again = spawnSync(join(slurm, "gather.sh"), [], { encoding: "utf8" });
    expect(again.stdout).toContain("2 of 4 job(s) done, 0 failed, stopped or stale");
    expect(again.status).toBe(0);
    // Job 0's experiment edited after its run: its old result is never reported again.
    const exp0 = join(slurm, "experiments", `${jobs[0]!.name}.json`);
    writeFileSync(exp0, JSON.stringify({ ...JSON.parse(readFileSync(exp0, "utf8")), optimizer: { _tag: "AdamW", lr: 0.5 } }));
    const stale = spawnSync(join(slurm, "gather.sh"), [], { encoding: "utf8" });
    expect(stale.status).toBe(1);
    expect(stale.stdout).toContain(`stale       ${jobs[0]!.name}`);
    expect(rows(slurm).map((r) => r.name)).toEqual([jobs[1]!.name]);
    // And its task, resubmitted, refuses to reuse the run (exit 2) instead of reporting it.
    const reused = task(0);
    expect(reused.status, reused.stderr).toBe(2);
    rmSync(spool, { recursive: true, force: true });
    expect(peft("script", grid, "--target", "slurm", "--out", join(work, "s2"), "--slurm-time", "two hours").stderr).toContain(
      '--slurm-time: "two hours". Expected: a Slurm time',
    );
    expect(peft("script", grid, "--target", "local", "--out", join(work, "l2"), "--slurm-mem", "8G").stderr).toContain(
      "--slurm-* flags are for --target slurm",
    );
  });
});
