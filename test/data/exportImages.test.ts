import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftIn, projectRoot } from "../support/peftCli.js";

/* A task exported as PNG files trains as the in-memory task does: the same seed, the same accuracy. */
const work = mkdtempSync(join(tmpdir(), "peft-export-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(work);

const lora = JSON.parse(readFileSync(join(projectRoot, "examples/experiments/lora.json"), "utf8")) as Record<string, unknown>;
// MNIST's own normalisation, which the in-memory tasks use.
const decoding = { mean: [0.1307], std: [0.3081] };

const run = (name: string, data: unknown) => {
  const file = join(work, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({ ...lora, name, data, backbone: { weights: "default", head: "reset" }, schedule: { epochs: 2, batchSize: 16, warmupEpochs: 0 } }),
  );
  const r = peft("train", file, "--out", join(work, name), "--backend", "wasm");
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(work, name, "result.json"), "utf8")) as {
    metrics: { trainLoss: number; valAccuracy: number; testAccuracy: number };
    history: { trainLoss: number }[];
  };
};

describe("peft export-images", () => {
  it("MNIST digits as files in the VTAB-1k layout train exactly as in memory; in the folder layout to the same accuracy", () => {
    const task = { _tag: "Mnist", digits: [5, 6, 7, 8, 9], split: { _tag: "Vtab1k", train: 96, val: 32 }, seed: 3, testLimit: 200 };
    writeFileSync(join(work, "task.json"), JSON.stringify({ data: task }));
    for (const layout of ["vtab1k", "folder"]) {
      const r = peft("export-images", "task.json", layout, "--layout", layout);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("wrote 328 images");
    }
    expect(readFileSync(join(work, "vtab1k", "train800.txt"), "utf8").split("\n")[0]).toMatch(/^images\/train\/00000\.png \d$/);
    expect(readdirSync(join(work, "folder", "train"))).toEqual(["0", "1", "2", "3", "4"]);
    const memory = run("memory", task);
    const list = run("list", { _tag: "ImageList", root: "vtab1k", ...decoding });
    const folder = run("folder-run", { _tag: "ImageFolder", root: "folder", folders: { train: "train", val: "val", test: "test" }, ...decoding });
    // The list keeps the task's example order: every step sees the same batch, to float rounding.
    list.history.forEach((h, i) => expect(h.trainLoss).toBeCloseTo(memory.history[i]!.trainLoss, 4));
    expect(list.metrics.testAccuracy).toBe(memory.metrics.testAccuracy);
    expect(list.metrics.valAccuracy).toBe(memory.metrics.valAccuracy);
    // A folder lists classes in turn, so the seeded epoch order draws other batches: the same images, close accuracy.
    expect(Math.abs(folder.metrics.testAccuracy - memory.metrics.testAccuracy)).toBeLessThanOrEqual(0.05);
    expect(memory.metrics.testAccuracy).toBeGreaterThan(0.5);
  });

  it("a mini-VTAB task (grey levels rounded to 8 bits) trains from files to the in-memory accuracy", () => {
    const task = { _tag: "MiniVtab", name: "orientation", split: { _tag: "Vtab1k", train: 96, val: 32 }, seed: 1, testSize: 200 };
    writeFileSync(join(work, "orientation.json"), JSON.stringify(task));
    expect(peft("export-images", "orientation.json", "orientation", "--layout", "vtab1k").code).toBe(0);
    const memory = run("orientation-memory", task);
    const list = run("orientation-list", { _tag: "ImageList", root: "orientation", ...decoding });
    list.history.forEach((h, i) => expect(h.trainLoss).toBeCloseTo(memory.history[i]!.trainLoss, 2));
    expect(Math.abs(list.metrics.testAccuracy - memory.metrics.testAccuracy)).toBeLessThanOrEqual(0.02);
  });

  it("bad input is exit 2 naming it, and nothing is written", () => {
    const unknown = peft("export-images", "no-such-task", "x");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("TASK: expected a mini-VTAB name");
    const layout = peft("export-images", "digits", "y", "--layout", "zip");
    expect(layout.code).toBe(2);
    expect(layout.stderr).toContain('--layout: "zip". Expected: "folder" | "vtab1k"');
    const exists = peft("export-images", "digits", "vtab1k");
    expect(exists.code).toBe(2);
    expect(exists.stderr).toContain("already exists");
    writeFileSync(join(work, "files.json"), JSON.stringify({ data: { _tag: "ImageFolder", root: "folder" } }));
    expect(peft("export-images", "files.json", "z").stderr).toContain("is already image files");
    writeFileSync(join(work, "big.json"), JSON.stringify({ _tag: "Mnist", digits: [0, 1], split: { _tag: "Vtab1k", train: 100000, val: 0 } }));
    const big = peft("export-images", "big.json", "w");
    expect(big.code).toBe(2);
    expect(big.stderr).toContain("data.split asks for");
    for (const d of ["x", "y", "z", "w"]) expect(existsSync(join(work, d))).toBe(false);
    expect(readdirSync(work).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
