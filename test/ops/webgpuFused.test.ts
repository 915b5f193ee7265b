import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { afterAll, describe, expect, it } from "vitest";
import { composedLayerNorm, layerNorm } from "../../src/ops/layerNorm.js";
import { gelu } from "../../src/ops/gelu.js";
import { erf64 } from "../../src/interpreters/reference/erf64.js";
import { loadBackend, releaseBackend } from "../../src/train/backend.js";
import { countGpuWork } from "../../src/bench/gpuWork.js";
import { benchConfig, benchBatch } from "../../src/bench/benchmark.js";
import { combine } from "../../src/dsl/method.js";
import { linearProbe, lora } from "../../src/methods/index.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { trainer } from "../../src/interpreters/compile/trainer.js";
import { randomVit } from "../../src/models/randomVit.js";
import { rng } from "../../src/util/random.js";
import { expectClose } from "../support/close.js";
import { numericGradient, weightedLayerNorm64 } from "../support/reference64.js";

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

  it("LayerNorm's value and gradients (dx, dγ, dβ) equal float64 central differences of the definition, rows wider than a workgroup", async () => {
    // 150 columns: two full passes of the 64 lanes and a partial one.
    const [rows, d, eps] = [5, 150, 1e-6];
    const r = rng(12, "layer-norm-webgpu");
    const x64 = Float64Array.from({ length: rows * d }, (_, k) => 3 * Math.floor(k / d) - 6 + (1 + Math.floor(k / d)) * r.normal());
    const gamma64 = Float64Array.from({ length: d }, () => 1 + r.normal());
    const beta64 = Float64Array.from({ length: d }, () => r.normal());
    const w64 = Float64Array.from({ length: rows * d }, () => r.normal());
    const [x, gamma, beta, w] = [
      tf.tensor2d(Float32Array.from(x64), [rows, d]),
      tf.tensor1d(Float32Array.from(gamma64)),
      tf.tensor1d(Float32Array.from(beta64)),
      tf.tensor2d(Float32Array.from(w64), [rows, d]),
    ];
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(a as tf.Tensor2D, g, b, eps), w));
    const [dx, dgamma, dbeta] = tf.grads(loss)([x, gamma, beta]);
    const f = (xs: Float64Array, gs: Float64Array, bs: Float64Array) => weightedLayerNorm64(xs, gs, bs, w64, rows, d, eps);
    const tol = { atol: 2e-4, rtol: 1e-3 };
    expectClose(await loss(x, gamma, beta).data(), [f(x64, gamma64, beta64)], { atol: 1e-3, rtol: 1e-5 }, "value");
    expectClose(
      await dx!.data(),
      numericGradient((v) => f(v, gamma64, beta64), x64),
      tol,
      "dx",
    );
    expectClose(
      await dgamma!.data(),
      numericGradient((v) => f(x64, v, beta64), gamma64),
      tol,
      "dγ",
    );
    expectClose(
      await dbeta!.data(),
      numericGradient((v) => f(x64, gamma64, v), beta64),
      tol,
      "dβ",
    );
    expectClose(
      await layerNorm(x, gamma, beta, eps).data(),
      await composedLayerNorm(x, gamma, beta, eps).data(),
      { atol: 2e-6, rtol: 1e-5 },
      "fused vs composed",
    );
    tf.dispose([x, gamma, beta, w, dx!, dgamma!, dbeta!]);
  });

  it("GELU equals x Φ(x) and its derivative Φ(x) + x φ(x) in float64, over ±8 and around 0", async () => {
    const xs = Float32Array.from({ length: 4001 }, (_, i) => -8 + (16 * i) / 4000);
    const x = tf.tensor1d(xs);
    const dy = tf.randomUniform([xs.length], -2, 2, "float32", 3) as tf.Tensor1D;
    const grads = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)))(x);
    const cdf = (v: number) => 0.5 * (1 + erf64(v / Math.SQRT2));
    const pdf = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
    expectClose(
      await gelu(x).data(),
      Array.from(xs, (v) => v * cdf(v)),
      { atol: 2e-6, rtol: 1e-6 },
      "GELU",
    );
    const d = await dy.data();
    expectClose(
      await grads.data(),
      Array.from(xs, (v, i) => d[i]! * (cdf(v) + v * pdf(v))),
      { atol: 4e-6, rtol: 1e-5 },
      "GELU gradient",
    );
    tf.dispose([x, dy, grads]);
  });

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
