#!/usr/bin/env node
// SIGKILL `peft train` at random moments, resume each time, and compare the end with an
// uninterrupted run: adapter and merged weights byte for byte, the metrics and every epoch's
// loss exactly, log.jsonl's lines in the same order (every step once, each epoch's line after its
// steps); no temporary file or lock may be left behind.
//
//   npm run build && node scripts/kill-resume.mjs [KILLS=20] [SEED=1]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const kills = Number(process.argv[2] ?? 20);
let state = Number(process.argv[3] ?? 1);
// A small LCG: the kill moments are reproducible from the seed.
const uniform = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;

const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "peft-kill-"));
const experiment = join(work, "experiment.json");
writeFileSync(
  experiment,
  JSON.stringify({
    name: "kill and resume",
    data: { _tag: "Mnist", digits: [5, 6, 7, 8, 9], split: { _tag: "Vtab1k", train: 160, val: 32 }, seed: 0, testLimit: 100 },
    method: {
      targets: [
        {
          select: {
            _tag: "Or",
            of: [
              { _tag: "Role", role: "q" },
              { _tag: "Role", role: "v" },
            ],
          },
          transform: { _tag: "LowRank", rank: 4, alpha: 8 },
        },
        { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } },
      ],
    },
    optimizer: { _tag: "AdamW", lr: 0.005 },
    schedule: { epochs: 6, batchSize: 16, warmupEpochs: 1 },
    metrics: { examples: 0 },
    seed: 3,
  }),
);
const train = (out, resume) => [main, "train", experiment, "--out", out, "--backend", "wasm", ...(resume ? ["--resume"] : [])];

const reference = join(work, "reference");
const t0 = performance.now();
const done = spawnSync(process.execPath, train(reference, false), { encoding: "utf8" });
if (done.status !== 0) throw new Error(done.stderr);
const seconds = (performance.now() - t0) / 1000;
console.log(`uninterrupted run: ${seconds.toFixed(1)} s`);

const killed = join(work, "killed");
let finishedEarly = 0;
for (let k = 0; k < kills; k++) {
  const at = uniform() * seconds * 1000;
  const child = spawn(process.execPath, train(killed, existsSync(killed)), { stdio: "ignore" });
  const timer = setTimeout(() => child.kill("SIGKILL"), at);
  const code = await new Promise((r) => child.on("exit", (c) => r(c)));
  clearTimeout(timer);
  if (code === 0) finishedEarly += 1;
  if (code === 0) rmSync(join(killed, "result.json"));
  console.log(`kill ${k + 1}/${kills} at ${(at / 1000).toFixed(2)} s: ${code === null ? "killed" : `exited ${code} first`}`);
  if (code !== null && code !== 0) throw new Error(`peft train exited ${code}`);
}
const last = spawnSync(process.execPath, train(killed, existsSync(killed)), { encoding: "utf8" });
if (last.status !== 0) throw new Error(last.stderr);

/** log.jsonl as (type, epoch, step): what kills must not change. */
const logSequence = (dir) =>
  readFileSync(join(dir, "log.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const r = JSON.parse(l);
      return `${r.type} ${r.epoch}${r.type === "step" ? `:${r.step}` : ""}`;
    })
    .join("\n");
const same = (file) => Buffer.compare(readFileSync(join(reference, file)), readFileSync(join(killed, file))) === 0;
const [a, b] = [reference, killed].map((d) => JSON.parse(readFileSync(join(d, "result.json"), "utf8")));
const checks = {
  "adapter.safetensors byte for byte": same("adapter.safetensors"),
  "merged.safetensors byte for byte": same("merged.safetensors"),
  metrics: JSON.stringify(a.metrics) === JSON.stringify(b.metrics),
  "log.jsonl's steps and epochs in order": logSequence(reference) === logSequence(killed),
  "every epoch's loss": JSON.stringify(a.history.map((h) => h.trainLoss)) === JSON.stringify(b.history.map((h) => h.trainLoss)),
  "no temporary file or lock": readdirSync(killed).every((f) => !f.endsWith(".tmp") && !f.startsWith(".lock")),
};
for (const [what, ok] of Object.entries(checks)) console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
console.log(`${kills} kills (${finishedEarly} of the runs finished before their kill; their result was removed, so the next run started over)`);
rmSync(work, { recursive: true, force: true });
process.exitCode = Object.values(checks).every(Boolean) ? 0 : 1;
