import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../support/peftCli.js";
import { peftWithCpuIn } from "../support/cpuBudget.js";
import { readSafetensors, toTensorData, writeSafetensors } from "../../src/models/safetensors.js";
import { saveCheckpoint, loadCheckpoint } from "../../src/train/checkpoint.js";

/*
 * Sizes a file declares are checked against the backbone and stated ceilings before anything is
 * allocated: exit 2, named, and in the CPU time of an ordinary command (a process start is most
 * of it), measured here rather than assumed.
 */
const work = mkdtempSync(join(tmpdir(), "peft-limits-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftWithCpuIn(work);
const lora = JSON.parse(readFileSync(join(projectRoot, "examples/experiments/lora.json"), "utf8")) as Record<string, unknown>;

const withMethod = (name: string, over: Record<string, unknown>) => {
  writeFileSync(join(work, name), JSON.stringify({ ...lora, ...over }));
  return name;
};
/** CPU seconds of an ordinary command on this machine: counting LoRA on the demo backbone. */
let ordinary: number | undefined;
const ordinaryCpu = (): number => {
  if (ordinary === undefined) {
    const r = peft("count", join(projectRoot, "examples/experiments/lora.json"));
    expect(r.code, r.stderr).toBe(0);
    ordinary = r.cpuSeconds;
  }
  return ordinary;
};
const withinOrdinaryWork = (r: { cpuSeconds: number }, times: number) => expect(r.cpuSeconds).toBeLessThan(times * ordinaryCpu());
const refused = (args: string[], message: string) => {
  const r = peft(...args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  withinOrdinaryWork(r, 3);
};
const loraOn = (rank: number) => ({ targets: [{ select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank, alpha: 8 } }] });

describe("input limits", () => {
  it("a rank beyond its ceiling or beyond min(out, in) of its sites", () => {
    refused(["count", withMethod("huge-rank.json", { method: loraOn(100_000_000) })], "integer in [1, 65,536] at method.targets[0].transform.rank");
    refused(["count", withMethod("wide-rank.json", { method: loraOn(100) })], "rank 100 exceeds min(out, in) = 64 of blocks.0.attn.qkv.weight[q]");
  });

  it("10,000 nested selectors: an error naming where the nesting passes 64 levels", () => {
    // Written as text: JSON.stringify itself recurses.
    const select = `${'{"_tag":"Not","of":'.repeat(10_000)}{"_tag":"Role","role":"q"}${"}".repeat(10_000)}`;
    const text = JSON.stringify({ ...lora, method: { targets: [{ select: "SELECT", transform: { _tag: "Full" } }] } }).replace('"SELECT"', select);
    writeFileSync(join(work, "deep.json"), text);
    refused(["count", "deep.json"], "nested deeper than 64 levels at method.targets[0].select.of.of");
  });

  it("a mini-VTAB test set of 1e9 images, and a config declaring 1e9 blocks", () => {
    refused(["count", withMethod("big-test.json", { data: { _tag: "MiniVtab", name: "count", testSize: 1e9 } })], "data.testSize");
    const base = readSafetensors(readFileSync(join(projectRoot, "assets/vit-mnist04.safetensors")));
    const config = { ...JSON.parse(base.metadata.config!), depth: 1e9 };
    writeFileSync(
      join(work, "deep.safetensors"),
      writeSafetensors(
        [...base.tensors].map(([name, t]) => ({ name, shape: t.shape, data: toTensorData(t, name) })),
        { ...base.metadata, config: JSON.stringify(config) },
      ),
    );
    writeFileSync(join(work, "x.safetensors"), writeSafetensors([{ name: "images", shape: [1, 28, 28, 1], data: new Float32Array(784) }]));
    refused(["forward", "--weights", "deep.safetensors", "--input", "x.safetensors", "--out", "y.safetensors"], "integer in [1, 256] at depth");
  });

  it("4,000 duplicate targets are checked in a few ordinary commands' CPU time (the clash check is linear); past 4,096 targets an error", () => {
    const head = { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } };
    const many = peft("count", withMethod("dup.json", { method: { targets: Array.from({ length: 4000 }, () => head) } }));
    expect(many.code, many.stderr).toBe(0);
    withinOrdinaryWork(many, 6);
    refused(["count", withMethod("too-many.json", { method: { targets: Array.from({ length: 5000 }, () => head) } })], "at most 4096 targets");
  });

  it("a results row of the wrong schema, and a checkpoint whose metadata is damaged, are exit 2 naming them", () => {
    writeFileSync(join(work, "results.jsonl"), `${JSON.stringify({ id: 5 })}\n`);
    refused(["report", "results.jsonl", "--out", "report"], "results.jsonl:1: not a result row");
    saveCheckpoint(join(work, "ck.safetensors"), {
      fingerprint: "f",
      epochs: 1,
      steps: 2,
      history: [{ epoch: 0, steps: 2, trainLoss: 1, terms: { ce: 1 }, valAccuracy: 0.5, lr: 1e-3, seconds: 1 }],
      preludes: [],
      reconfigurations: [],
      adapter: new Map(),
      optimizer: new Map(),
    });
    expect(loadCheckpoint(join(work, "ck.safetensors")).epochs).toBe(1);
    const file = readSafetensors(readFileSync(join(work, "ck.safetensors")));
    writeFileSync(join(work, "bad.safetensors"), writeSafetensors([], { ...file.metadata, epochs: "banana" }));
    expect(() => loadCheckpoint(join(work, "bad.safetensors"))).toThrow("metadata epochs is not JSON");
    writeFileSync(join(work, "bad2.safetensors"), writeSafetensors([], { ...file.metadata, epochs: "3" }));
    expect(() => loadCheckpoint(join(work, "bad2.safetensors"))).toThrow("history holds 1 epochs, epochs says 3");
  });
});
