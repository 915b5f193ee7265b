import { afterAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftIn, projectRoot } from "../support/peftCli.js";

/* An experiment may name its method by file, relative to the experiment file. */
const root = projectRoot;
const work = mkdtempSync(join(tmpdir(), "peft-method-file-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(root);

describe("an experiment's method by file", () => {
  const experiment = (method: unknown) => {
    const path = join(work, "experiments", "e.json");
    writeFileSync(
      path,
      JSON.stringify({
        name: "by file",
        data: { _tag: "Mnist", digits: [5, 6, 7, 8, 9] },
        method,
        optimizer: { _tag: "AdamW", lr: 0.005 },
        schedule: { epochs: 1, batchSize: 32 },
      }),
    );
    return path;
  };
  mkdirSync(join(work, "experiments"), { recursive: true });
  mkdirSync(join(work, "methods"));
  copyFileSync(join(root, "examples/methods/lora.json"), join(work, "methods/lora.json"));

  it("reads a method file or another experiment's method, relative to the experiment, as the inline method", () => {
    const inline = peft("count", join(root, "examples/methods/lora.json"), "--json");
    const byFile = peft("count", experiment("../methods/lora.json"), "--json");
    expect(byFile.code, byFile.stderr).toBe(0);
    expect(JSON.parse(byFile.stdout).trainable).toBe(JSON.parse(inline.stdout).trainable);
    const fromExperiment = peft("count", experiment(join(root, "examples/experiments/lora-linears.json")), "--json");
    expect(JSON.parse(fromExperiment.stdout).trainable).toBe(
      JSON.parse(peft("count", join(root, "examples/experiments/lora-linears.json"), "--json").stdout).trainable,
    );
  });

  it("a missing method file is exit 2 naming it", () => {
    const r = peft("count", experiment("../methods/nope.json"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/method: no such file .*nope\.json/);
  });
});
