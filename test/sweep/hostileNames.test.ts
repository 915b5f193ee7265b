import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { slurmMissing, startSlurm } from "./slurmCluster.js";

/*
 * Names are data: a sweep and method names built to break out of a comment, a quote or a
 * command substitution, and a --peft path built the same way, go through `peft script`; the
 * scripts then run as a user runs them and as Slurm runs them. Each payload would create a
 * file <test>-pwned-<what> in the work folder; none may appear.
 */
const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");
const work = mkdtempSync(join(tmpdir(), "peft-hostile-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// No "/" in a payload: the same ones serve as a directory name (--peft). Each test has its own
// PEFT_PWNED, so a payload that ran is found by the test whose scripts ran it.
const touch = (what: string) => `touch "$PEFT_PWNED"-${what}`;
const markers = (test: string) => ({
  env: { ...process.env, PEFT_PWNED: join(work, `${test}-pwned`) },
  found: () => readdirSync(work).filter((f) => f.startsWith(`${test}-pwned`)),
});

const methods = [
  `newline\n${touch("newline")} #`,
  `dollar $(${touch("dollar")}) backtick \`${touch("backtick")}\``,
  `single '; ${touch("single")}; echo '`,
  `double "; ${touch("double")}; echo "`,
];
// Straight after the #SBATCH lines an injected one would be read as the script's own.
const sweepName = `s\n#SBATCH --error=${join(work, "real-pwned-sbatch-error")}\n${touch("sweep-newline")} $(${touch("sweep-dollar")}); ${touch("sweep-semicolon")}`;
// A tiny job: 16 training images, one step.
const head = { targets: [{ select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } }] };
const sweep = join(work, "sweep.json");
writeFileSync(
  sweep,
  JSON.stringify({
    name: sweepName,
    experiment: { optimizer: { _tag: "AdamW", lr: 0.005 }, schedule: { epochs: 1, batchSize: 16 }, metrics: { examples: 0 } },
    // The same method under every name: each name is its own job.
    methods: Object.fromEntries(methods.map((m) => [m, { method: head }])),
    tasks: [{ _tag: "MiniVtab", name: "digits", split: { _tag: "Vtab1k", train: 16, val: 8 }, testSize: 8 }],
  }),
);
// This installation's CLI under a directory named like a payload.
const hostileDir = join(work, `p $(${touch("peft-dollar")}) \`${touch("peft-backtick")}\` '"}\n;${touch("peft-semicolon")}`);
mkdirSync(hostileDir);
symlinkSync(bin, join(hostileDir, "main.js"));

const peft = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: "utf8" });
const hostilePeft = join(hostileDir, "main.js");
const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { jobs: { name: string; method: string }[] };

describe("generated scripts take every name as data", () => {
  it("local: run-all.sh runs each job's script and gather.sh; no payload runs and the rows keep the names", () => {
    const out = join(work, "local");
    const { env, found } = markers("local");
    const made = peft("script", sweep, "--target", "local", "--out", out, "--peft", hostilePeft);
    expect(made.status, made.stderr).toBe(0);
    expect(manifest(out).jobs.map((j) => j.method)).toEqual(methods);
    const run = spawnSync(join(out, "run-all.sh"), ["--backend", "wasm"], { cwd: work, encoding: "utf8", env });
    expect(run.status, run.stderr).toBe(0);
    expect(found()).toEqual([]);
    const rows = readFileSync(join(out, "results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { method: string; sweep: string; status: string });
    expect(rows.map((r) => [r.method, r.sweep, r.status])).toEqual(methods.map((m) => [m, sweepName, "ok"]));
  });

  it("Slurm: the array task runs as slurmd runs it (a copy of the script, started elsewhere); no payload runs", () => {
    const out = join(work, "slurm");
    const { env, found } = markers("spool");
    const made = peft("script", sweep, "--target", "slurm", "--out", out, "--slurm-cpus", "1", "--peft", hostilePeft);
    expect(made.status, made.stderr).toBe(0);
    const spool = join(work, "spool");
    mkdirSync(spool);
    writeFileSync(join(spool, "slurm_script"), readFileSync(join(out, "sweep.sbatch")));
    const task = spawnSync("bash", [join(spool, "slurm_script"), "--backend", "wasm"], {
      cwd: spool,
      encoding: "utf8",
      env: { ...env, SLURM_ARRAY_TASK_ID: "2", SLURM_CPUS_PER_TASK: "1" },
    });
    expect(task.status, task.stderr).toBe(0);
    expect(existsSync(join(out, "runs", manifest(out).jobs[2]!.name, "result.json"))).toBe(true);
    const gathered = spawnSync(join(out, "gather.sh"), [], { cwd: work, encoding: "utf8", env });
    expect(gathered.stdout).toContain("1 of 4 job(s) done");
    expect(found()).toEqual([]);
  });

  // .ci/run installs Slurm and sets PEFT_REQUIRE_SLURM=1: there this cannot skip.
  const missing = slurmMissing();
  it.skipIf(missing !== null && process.env.PEFT_REQUIRE_SLURM !== "1")(
    "Slurm: a real sbatch parses the #SBATCH lines and runs a task; no payload runs",
    async () => {
      if (missing !== null) throw new Error(`PEFT_REQUIRE_SLURM=1 but no Slurm cluster can start: ${missing}`);
      const out = join(work, "slurm-real");
      const { env, found } = markers("real");
      const made = peft("script", sweep, "--target", "slurm", "--out", out, "--slurm-cpus", "1", "--peft", hostilePeft);
      expect(made.status, made.stderr).toBe(0);
      const cluster = await startSlurm(join(work, "cluster"));
      try {
        const sbatch = (...args: string[]) => spawnSync("sbatch", args, { cwd: work, encoding: "utf8", env: { ...env, SLURM_CONF: cluster.conf } });
        const parsed = sbatch("--test-only", join(out, "sweep.sbatch"));
        expect(parsed.status, parsed.stderr).toBe(0);
        // One task of the array (the script's own --array names all four), waited for.
        const ran = sbatch("--wait", "--array=3", join(out, "sweep.sbatch"), "--backend", "wasm");
        expect(ran.status, `${ran.stdout}${ran.stderr}`).toBe(0);
        const job = /Submitted batch job (\d+)/.exec(ran.stdout)![1]!;
        expect(existsSync(join(out, "runs", manifest(out).jobs[3]!.name, "result.json"))).toBe(true);
        // The script's own --output took effect, not one a name tried to add.
        expect(readdirSync(join(out, "logs")).filter((f) => f.endsWith(`-${job}_3.out`))).toHaveLength(1);
      } finally {
        await cluster.stop();
      }
      expect(found()).toEqual([]);
    },
  );
});
