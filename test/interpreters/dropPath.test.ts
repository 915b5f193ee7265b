import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { loadBackend } from "../../src/train/backend.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { trainer } from "../../src/interpreters/compile/trainer.js";
import { referenceForward } from "../../src/interpreters/reference/forward.js";
import { combine } from "../../src/dsl/method.js";
import { adaptFormer, linearProbe, lora } from "../../src/methods/index.js";
import { randomVit } from "../../src/models/randomVit.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { dropPathKeep, dropPathRates } from "../../src/train/dropPath.js";
import { readHost } from "../../src/util/hostRead.js";
import { rng } from "../../src/util/random.js";
import { randomAdapterValues, randomImages } from "../../laws/setting.js";
import { expectClose } from "../support/close.js";
import { peftIn, projectRoot } from "../support/peftCli.js";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const plain: VitConfig = { image: 8, channels: 3, patch: 4, width: 8, depth: 3, heads: 2, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" };
// Layer scale and average pooling: the multiplier goes on the scaled branch, every token of the image.
const scaledAvg: VitConfig = { ...plain, layerScale: true, pool: "avg", classToken: false };

describe("stochastic depth (drop-path)", () => {
  beforeAll(() => loadBackend("cpu"));
  afterAll(() => tf.disposeVariables());

  it("timm's linear rule, and per-image multipliers 0 or 1/(1 − p) at the rates drawn, fixed by (seed, step)", () => {
    // torch.linspace(0, 0.3, 4)
    expectClose(dropPathRates(0.3, 4), [0, 0.1, 0.2, 0.3], { atol: 1e-12, rtol: 0 });
    expect(dropPathRates(0.2, 1)).toEqual([0]);
    const [depth, n, rate] = [4, 4000, 0.3];
    const keep = dropPathKeep(rate, depth, n, 5, 17);
    expect(Array.from(dropPathKeep(rate, depth, n, 5, 17))).toEqual(Array.from(keep));
    expect(Array.from(dropPathKeep(rate, depth, n, 5, 18))).not.toEqual(Array.from(keep));
    dropPathRates(rate, depth).forEach((p, i) => {
      for (const column of [2 * i, 2 * i + 1]) {
        const values = Array.from({ length: n }, (_, s) => keep[s * 2 * depth + column]!);
        expect(values.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-6)).toBe(true);
        const dropped = values.filter((v) => v === 0).length / n;
        // Binomial: 4 standard deviations.
        expect(Math.abs(dropped - p)).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
        // The expected multiplier is 1: E[keep] = (1 − p) · 1/(1 − p).
        expect(values.reduce((a, b) => a + b, 0) / n).toBeCloseTo(1, 1);
      }
    });
  });

  it.each([
    ["plain", plain],
    ["layer scale, avg pool", scaledAvg],
  ] as const)(
    "compiled forward with any per-image branch multipliers = the float64 reference (%s; LoRA + AdaptFormer beside the MLP, not dropped)",
    async (_, config) => {
      const backbone = randomVit(config, 4);
      const method = combine(lora({ rank: 2 }), adaptFormer({ bottleneck: 2 }), linearProbe());
      const program = compile(method, backbone, { seed: 3 });
      try {
        const values = await randomAdapterValues(program, backbone.weights, 5);
        program.setValues(values);
        const n = 5;
        const r = rng(6, "keep");
        // Dropped, kept and arbitrary multipliers: the law is about the multiplier, not the draw.
        const keep = Float32Array.from({ length: n * 2 * config.depth }, (_, k) => [0, 1 / 0.8, 0.3, 1.7][(k + r.int(4)) % 4]!);
        const images = randomImages(config, n, 7);
        const compiled = readHost(() => program.forward(tf.tensor4d(images, [n, 8, 8, 3]), tf.tensor2d(keep, [n, 2 * config.depth])).logits);
        const reference = referenceForward(method, backbone, values, Float64Array.from(images), n, Float64Array.from(keep)).logits;
        expectClose(compiled, reference, { atol: 1e-4, rtol: 1e-4 }, "logits");
        // The multipliers matter: without them the logits differ.
        const without = referenceForward(method, backbone, values, Float64Array.from(images), n).logits;
        expect(Math.max(...Array.from(reference, (v, i) => Math.abs(v - without[i]!)))).toBeGreaterThan(1e-3);
      } finally {
        program.dispose();
      }
    },
  );

  it("micro-batches slice the multipliers with the images: the full batch's update to float rounding", async () => {
    const backbone = randomVit(plain, 3);
    const method = combine(lora({ rank: 2 }), linearProbe());
    const programs = [compile(method, backbone, { seed: 1 }), compile(method, backbone, { seed: 1 })];
    const start = await randomAdapterValues(programs[0]!, backbone.weights, 7);
    for (const p of programs) p.setValues(start);
    const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2 };
    const [whole, parts] = [trainer(programs[0]!, settings), trainer(programs[1]!, { ...settings, microBatch: 3 })];
    const images = tf.tensor4d(randomImages(plain, 8, 2), [8, 8, 8, 3]);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 2, 1], "int32");
    for (let step = 0; step < 3; step++) {
      const keep = tf.tensor2d(dropPathKeep(0.5, plain.depth, 8, 1, step), [8, 2 * plain.depth]);
      const [a, b] = [await whole.step(images, labels, 1e-2, keep), await parts.step(images, labels, 1e-2, keep)];
      expect(b.loss).toBeCloseTo(a.loss, 5);
      keep.dispose();
    }
    const [va, vb] = [await programs[0]!.values(), await programs[1]!.values()];
    for (const [name, value] of va) expectClose(vb.get(name)!, value, { atol: 1e-5, rtol: 1e-4 }, name);
    tf.dispose([images, labels]);
    for (const p of programs) p.dispose();
    whole.dispose();
    parts.dispose();
  });

  it("an experiment's dropPath trains through peft train (and changes the training); a rate outside [0, 1) is exit 2 naming the field", () => {
    const work = mkdtempSync(join(tmpdir(), "peft-droppath-"));
    try {
      const peft = peftIn(work);
      const lora = JSON.parse(readFileSync(join(projectRoot, "examples/experiments/lora.json"), "utf8")) as Record<string, unknown>;
      const losses = [0, 0.3].map((dropPath) => {
        const file = join(work, `d${dropPath}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            ...lora,
            dropPath,
            data: { _tag: "Mnist", digits: [5, 6, 7], split: { _tag: "Vtab1k", train: 64, val: 16 }, testLimit: 50 },
            schedule: { epochs: 1, batchSize: 16 },
          }),
        );
        const r = peft("train", file, "--out", join(work, `run${dropPath}`), "--backend", "wasm");
        expect(r.code, r.stderr).toBe(0);
        const result = JSON.parse(readFileSync(join(work, `run${dropPath}`, "result.json"), "utf8")) as {
          experiment: { dropPath: number };
          metrics: { trainLoss: number };
        };
        expect(result.experiment.dropPath).toBe(dropPath);
        return result.metrics.trainLoss;
      });
      expect(losses[1]).not.toBe(losses[0]);
      writeFileSync(join(work, "bad.json"), JSON.stringify({ ...lora, dropPath: 1 }));
      const bad = peft("count", "bad.json");
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("dropPath");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
