import { afterAll, describe, expect, it } from "vitest";
import { tinyLora } from "../support/tinyLora.js";
import * as tf from "@tensorflow/tfjs-core";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftIn } from "../support/peftCli.js";
import { loadBackend } from "../../src/train/backend.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { trainer } from "../../src/interpreters/compile/trainer.js";
import { lora } from "../../src/methods/index.js";
import { randomVit } from "../../src/models/randomVit.js";
import { randomImages } from "../../laws/setting.js";
import type { VitConfig } from "../../src/models/vitConfig.js";

/* Every phase of a run that can take seconds is named before it starts, in lines a log keeps. */
const work = mkdtempSync(join(tmpdir(), "peft-phases-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const experiment = tinyLora("phase lines", 32, 20, { schedule: { epochs: 1, batchSize: 16 }, metrics: { examples: 8 }, seed: 1 });

/** The index of each line that starts with one of `prefixes`, searched in order: -1 where one is missing or out of order. */
const inOrder = (lines: readonly string[], prefixes: readonly string[]): number[] => {
  let from = 0;
  return prefixes.map((p) => {
    const at = lines.findIndex((l, i) => i >= from && l.startsWith(p));
    if (at >= 0) from = at + 1;
    return at;
  });
};

describe("what a run says while it works", () => {
  it("peft train off a terminal: a line naming each phase before it starts, in order, and no bar redraws", () => {
    writeFileSync(join(work, "exp.json"), JSON.stringify(experiment));
    const r = peftIn(work)("train", "exp.json", "--out", "run", "--backend", "wasm");
    expect(r.code, r.stderr).toBe(0);
    const phases = [
      "loading the wasm backend…",
      "backend: wasm",
      "backbone: reading ",
      "data: building mnist-567…",
      "compiling the method onto the backbone…",
      "phase lines: ",
      "epoch 1/1: first step",
      "epoch 1/1 step 2/2",
      "validating: 16/16",
      "epoch 1/1  loss",
      "evaluating on 20 test images…",
      "testing: 20/20",
      "representation metrics on 8 test images",
      "representation: 8/8",
      "representation on 8 test images: Sim",
      "writing ",
    ];
    const lines = r.stderr.split("\n");
    const found = inOrder(lines, phases);
    expect(
      phases.filter((_, i) => found[i]! < 0),
      r.stderr,
    ).toEqual([]);
    expect(r.stderr).not.toMatch(/[\r\u001b]/);
    expect(r.stdout).toMatch(/^phase lines: test accuracy/);
  });

  it("a step in micro-batches tells each pass as it is done", async () => {
    await loadBackend("cpu");
    const config: VitConfig = { image: 8, channels: 3, patch: 4, width: 8, depth: 1, heads: 2, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" };
    const program = compile(lora({ rank: 2 }), randomVit(config, 1), { seed: 1 });
    const train = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, microBatch: 3 });
    const images = tf.tensor4d(randomImages(config, 7, 2), [7, 8, 8, 3]);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 2], "int32");
    const told: [number, number][] = [];
    await train.step(images, labels, 1e-2, undefined, (done, total) => told.push([done, total]));
    expect(told).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    tf.dispose([images, labels]);
    train.dispose();
    program.dispose();
  });
});
