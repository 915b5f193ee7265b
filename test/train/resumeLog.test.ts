import { afterAll, describe, expect, it } from "vitest";
import { tinyLora } from "../support/tinyLora.js";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftBin, peftIn } from "../support/peftCli.js";
import { killOrExit, killWhen, linesWith } from "../support/killWhen.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";

/*
 * What log.jsonl holds after kills and resumes: the uninterrupted run's lines — every step once,
 * numbered 1…N in order, each epoch's line after its steps — whatever the moments of the kills.
 */
const work = mkdtempSync(join(tmpdir(), "peft-resume-log-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(work);

const [epochs, stepsPerEpoch] = [3, 4];
writeFileSync(
  join(work, "exp.json"),
  JSON.stringify(tinyLora("resume log", 64, 20, { schedule: { epochs, batchSize: 16, warmupEpochs: 0 }, metrics: { examples: 0 }, seed: 2 })),
);
const train = (out: string) => [peftBin, "train", "exp.json", "--out", out, "--backend", "wasm", ...(existsSync(out) ? ["--resume"] : [])];

/** The log as (type, epoch, step) — what must not depend on kills; losses and seconds are checked elsewhere. */
const sequence = (out: string): string[] =>
  readFileSync(join(out, "log.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const r = JSON.parse(l) as { type: string; epoch: number; step?: number };
      return r.type === "step" ? `step ${r.epoch}:${r.step}` : `${r.type} ${r.epoch}`;
    });

/** By definition: epoch e's steps e·S + 1 … (e + 1)·S, then its epoch line. */
const expected = Array.from({ length: epochs }, (_, e) => [
  ...Array.from({ length: stepsPerEpoch }, (_, i) => `step ${e}:${e * stepsPerEpoch + i + 1}`),
  `epoch ${e}`,
]).flat();

describe("log.jsonl after kills and resumes", () => {
  const reference = join(work, "reference");

  it("an uninterrupted run logs steps 1…N once each, each epoch's line after its steps", () => {
    const r = peft(...train(reference).slice(1));
    expect(r.code, r.stderr).toBe(0);
    expect(sequence(reference)).toEqual(expected);
  });

  it("SIGKILLs at random moments (by the log's progress, from startup to the last epoch), each followed by --resume, leave the uninterrupted run's log", async () => {
    const out = join(work, "killed");
    const log = join(out, "log.jsonl");
    // A small LCG: the kill points are reproducible from the seed.
    let state = 7;
    const uniform = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const kills: string[] = [];
    for (let k = 0; k < 6 && !existsSync(join(out, "result.json")); k++) {
      const at = Math.floor(uniform() * expected.length);
      const how = await killOrExit(train(out), work, () => linesWith(log, '"type"') >= at);
      kills.push(`${at}: ${how}`);
      expect(how === "killed" || how === 0, kills.join(", ")).toBe(true);
    }
    if (!existsSync(join(out, "result.json"))) {
      const r = peft(...train(out).slice(1));
      expect(r.code, r.stderr).toBe(0);
    }
    expect(sequence(out), kills.join(", ")).toEqual(sequence(reference));
  });

  it("a kill between an epoch's checkpoint and its log line: the resumed log still has that epoch's line, from the checkpoint", async () => {
    const out = join(work, "window");
    const log = join(out, "log.jsonl");
    await killWhen(train(out), work, () => linesWith(log, '"type":"epoch"') >= 1);
    // What that kill leaves: the checkpoint holds the epoch, the log lacks its line.
    const last = loadCheckpoint(join(out, "checkpoint.safetensors")).epochs - 1;
    const lines = readFileSync(log, "utf8").split("\n");
    writeFileSync(log, lines.filter((l) => !l.startsWith(`{"type":"epoch","epoch":${last},`)).join("\n"));
    expect(sequence(out)).not.toContain(`epoch ${last}`);
    const r = peft(...train(out).slice(1));
    expect(r.code, r.stderr).toBe(0);
    expect(sequence(out)).toEqual(sequence(reference));
    const epochLine = (dir: string) =>
      readFileSync(join(dir, "log.jsonl"), "utf8")
        .split("\n")
        .find((l) => l.startsWith(`{"type":"epoch","epoch":${last},`))!;
    // The line written from the checkpoint is the line the epoch logged, but for its seconds.
    const withoutTime = (l: string) => l.replace(/"seconds":[^,}]+/, "");
    expect(withoutTime(epochLine(out))).toEqual(withoutTime(epochLine(reference)));
  });
});
