import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  writeFileSync(path, JSON.stringify({
    experiment: { optimizer: { _tag: "AdamW", lr: 0.005 }, schedule: { epochs: 1, batchSize: 16 }, metrics: { examples: 0 } },
    ...spec,
  }));
  return path;
};
const rows = (dir: string) => readFileSync(join(dir, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string; status: string; name: string; error?: string });
const peft = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: "utf8" });

describe("peft sweep", () => {
  const grid = sweepFile("grid.json", {
    name: "grid",
    methods: {
      linear: { method: { targets: [head] } },
      lora: { method: { targets: [{ select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 2, alpha: 2 } }, head] } },
    },
    tasks: [tiny("digits"), tiny("count")],
    seeds: [0, 1],
  });

  it("killed midway, a rerun runs only the missing jobs and the results have one row per job", async () => {
    const out = join(work, "grid");
    await killWhen([bin, "sweep", grid, "--out", out, "--workers", "2", "--backend", "wasm"], work, () => linesWith(join(out, "results.jsonl"), "{") >= 2);
    const before = rows(out).length;
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(8);
    const r = peft("sweep", grid, "--out", out, "--workers", "2", "--backend", "wasm");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`8 jobs, ${before} already done, ${8 - before} to run`);
    const all = rows(out);
    expect(all).toHaveLength(8);
    expect(new Set(all.map((x) => x.id)).size).toBe(8);
    expect(all.every((x) => x.status === "ok")).toBe(true);
    const again = peft("sweep", grid, "--out", out, "--backend", "wasm");
    expect(again.stdout).toContain("ran 0 job(s), 0 failed, 8 already done");
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
    const byMethod = new Map(rows(out).map((x) => [x.name.split(/\[|__/)[0], x]));
    expect(byMethod.get("linear")!.status).toBe("ok");
    expect(byMethod.get("missing")!.status).toBe("failed");
    expect(byMethod.get("missing")!.error).toMatch(/exit 2: .*no such file/);
  });

  it("rejects a grid path that is not in the experiment, with exit 2 and nothing written", () => {
    const bad = sweepFile("bad.json", { methods: { linear: { method: { targets: [head] }, grid: { "method.losses[0].weight": [1] } } }, tasks: [tiny("digits")] });
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
    expect(jobs).toHaveLength(8);
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
    expect(text).toContain("#SBATCH --array=0-7");
    expect(text.split("JOBS=(")[1]!.split(")")[0]!.trim().split("\n")).toHaveLength(8);
    expect(peft("script", grid, "--target", "pbs", "--out", join(work, "pbs")).stderr).toContain("--target: expected local or slurm");
  });
});
