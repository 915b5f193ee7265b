import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { loadBackend } from "../../src/train/backend.js";
import { inMemory } from "../../src/data/dataset.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { trainer } from "../../src/interpreters/compile/trainer.js";
import { combine } from "../../src/dsl/method.js";
import { l2sp, linearProbe, lora } from "../../src/methods/index.js";
import { randomVit } from "../../src/models/randomVit.js";
import { randomAdapterValues, randomImages } from "../../laws/setting.js";
import { expectClose } from "../support/close.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { accuracy } from "../../src/train/evaluate.js";

const config: VitConfig = { image: 8, channels: 3, patch: 4, width: 8, depth: 2, heads: 2, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" };

describe("gradient accumulation over micro-batches", () => {
  beforeAll(() => loadBackend("cpu"));
  afterAll(() => tf.disposeVariables());

  it.each([1, 3, 5])("micro-batches of %i give the full batch's losses and updates to float rounding (LoRA + head + L2-SP)", async (micro) => {
    const backbone = randomVit(config, 3);
    const method = combine(lora({ rank: 2 }), linearProbe(), l2sp({ weight: 0.3 }));
    const programs = [compile(method, backbone, { seed: 1 }), compile(method, backbone, { seed: 1 })];
    const start = await randomAdapterValues(programs[0]!, backbone.weights, 7);
    for (const p of programs) p.setValues(start);
    const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2, labelSmoothing: 0.1 };
    const [whole, parts] = [trainer(programs[0]!, settings), trainer(programs[1]!, { ...settings, microBatch: micro })];
    const images = tf.tensor4d(randomImages(config, 8, 2), [8, 8, 8, 3]);
    const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 2, 1], "int32");
    for (let step = 0; step < 3; step++) {
      const [a, b] = [await whole.step(images, labels, 1e-2), await parts.step(images, labels, 1e-2)];
      expect(b.loss).toBeCloseTo(a.loss, 5);
      expect(Object.keys(b.terms)).toEqual(Object.keys(a.terms));
      for (const [k, v] of Object.entries(a.terms)) expect(b.terms[k]).toBeCloseTo(v, 5);
      expect(b.gradMaxAbs).toBeCloseTo(a.gradMaxAbs, 5);
    }
    const [va, vb] = [await programs[0]!.values(), await programs[1]!.values()];
    for (const [name, value] of va) expectClose(vb.get(name)!, value, { atol: 1e-5, rtol: 1e-4 }, name);
    // The updates moved the values: the comparison is not between two untouched copies.
    expect([...va].some(([name, v]) => v.some((x, i) => x !== start.get(name)![i]))).toBe(true);
    tf.dispose([images, labels]);
    for (const p of programs) p.dispose();
    whole.dispose();
    parts.dispose();
  });

  it("evaluation in batches of any size gives the same accuracy", async () => {
    const program = compile(combine(lora({ rank: 2 }), linearProbe()), randomVit(config, 5), { seed: 2 });
    program.setValues(await randomAdapterValues(program, randomVit(config, 5).weights, 3));
    const count = 23;
    const ds = inMemory(
      randomImages(config, count, 4),
      Int32Array.from({ length: count }, (_, i) => i % 3),
      [8, 8, 3],
    );
    const whole = await accuracy(program, ds);
    expect(whole).toBeGreaterThan(0);
    for (const batch of [1, 4, 7]) expect(await accuracy(program, ds, batch)).toBe(whole);
    program.dispose();
  });
});
