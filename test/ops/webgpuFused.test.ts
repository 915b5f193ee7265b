import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { afterAll, describe, expect, it } from "vitest";
import { loadBackend, releaseBackend } from "../../src/train/backend.js";
import { countGpuWork } from "../../src/bench/gpuWork.js";
import { benchConfig, benchBatch } from "../../src/bench/benchmark.js";
import { combine } from "../../src/dsl/method.js";
import { linearProbe, lora } from "../../src/methods/index.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { trainer } from "../../src/interpreters/compile/trainer.js";
import { randomVit } from "../../src/models/randomVit.js";
import { expectGeluMatchesDefinition, expectLayerNormMatchesDefinition } from "../support/normKernels.js";
import { expectAdamWMatchesFloat64 } from "../support/adamw64.js";

// WebGPU through Dawn (the `webgpu` package) on whatever Vulkan driver there is: Mesa's lavapipe
// on a machine without a GPU. .ci/run installs it and sets PEFT_REQUIRE_WEBGPU=1, so there these
// tests cannot skip.
const loaded = await loadBackend("webgpu").then(
  () => null,
  (e: Error) => e.message,
);
const required = process.env.PEFT_REQUIRE_WEBGPU === "1";
afterAll(releaseBackend);

describe.skipIf(loaded !== null && !required)("fused WGSL kernels and a LoRA step's dispatches on WebGPU (src/ops/webgpuFused.ts)", () => {
  it("loads the webgpu backend", () => expect(loaded).toBeNull());

  it("LayerNorm's value and gradients (dx, dγ, dβ) equal float64 central differences of the definition, rows wider than a workgroup (150 columns)", () =>
    expectLayerNormMatchesDefinition(5, 150, 12));

  it("GELU equals x Φ(x) and its derivative Φ(x) + x φ(x) in float64, over ±8 and around 0", () => expectGeluMatchesDefinition());

  it("AdamW with its bias corrections kept on the device equals float64 AdamW, and a resumed optimizer continues bit for bit", () =>
    expectAdamWMatchesFloat64());

  it("a LoRA step of the benchmark's ViT is at most 250 dispatches and uploads nothing made on the host", async () => {
    const program = compile(combine(lora(), linearProbe()), randomVit(benchConfig, 0), { seed: 0 });
    const train = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 });
    const c = benchConfig;
    const images = tf.randomNormal([benchBatch, c.image, c.image, c.channels], 0, 1, "float32", 1) as tf.Tensor4D;
    const labels = tf.tensor1d(
      Array.from({ length: benchBatch }, (_, i) => i % c.classes),
      "int32",
    );
    // The first steps make the kept constants and AdamW's device state.
    const first = await train.step(images, labels, 1e-3);
    await train.step(images, labels, 1e-3);
    const work = await countGpuWork(() => train.step(images, labels, 1e-3));
    const last = await train.step(images, labels, 1e-3);
    expect(work!.dispatches, JSON.stringify(work!.byProgram)).toBeLessThanOrEqual(250);
    expect(work!.uploads).toBe(0);
    expect(last.loss).toBeLessThan(first.loss);
    tf.dispose([images, labels]);
    train.dispose();
    program.dispose();
  });
});
