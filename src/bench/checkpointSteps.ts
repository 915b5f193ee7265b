import * as tf from "@tensorflow/tfjs-core";
import { combine } from "../dsl/method.js";
import { linearProbe, lora } from "../methods/index.js";
import { compile } from "../interpreters/compile/program.js";
import { trainer } from "../interpreters/compile/trainer.js";
import { withZeroHead } from "../models/backbone.js";
import { loadBackend, releaseBackend, wasmHeapBytes, wasmThreads, type BackendName } from "../train/backend.js";
import { readBackboneFile } from "../train/loadBackbone.js";
import { rng } from "../util/random.js";

/**
 * `node dist/src/bench/checkpointSteps.js CHECKPOINT BATCH [STEPS] [BACKEND] [MICRO]`: load a
 * checkpoint, time its forward pass and STEPS (default 3) LoRA r8 (q, v) + head steps (AdamW, 10
 * classes) at BATCH on random images, in micro-batches of MICRO (default: the whole batch); one
 * JSON line with seconds per step and peak memory (resident set and, on wasm, the heap, which
 * wasm32 caps at 4 GiB).
 */
const [path, batchArg, stepsArg, backendArg, microArg] = process.argv.slice(2);
if (path === undefined || batchArg === undefined) {
  process.stderr.write("usage: node dist/src/bench/checkpointSteps.js CHECKPOINT BATCH [STEPS] [BACKEND] [MICRO]\n");
  process.exit(2);
}
const batch = Number(batchArg);
const steps = Number(stepsArg ?? 3);
const backend = (backendArg ?? "wasm") as BackendName;
const description = await loadBackend(backend);
const t0 = performance.now();
const backbone = withZeroHead(readBackboneFile(path, "CHECKPOINT"), 10);
const loadSeconds = (performance.now() - t0) / 1000;
const c = backbone.config;
const program = compile(combine(lora(), linearProbe()), backbone, { seed: 0 });
const microBatch = microArg === undefined ? batch : Math.min(Number(microArg), batch);
const train = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4, microBatch });
const r = rng(0, "checkpoint steps");
const images = tf.tensor4d(
  Float32Array.from({ length: batch * c.image * c.image * c.channels }, () => r.normal()),
  [batch, c.image, c.image, c.channels],
);
const labels = tf.tensor1d(
  Int32Array.from({ length: batch }, () => r.int(10)),
  "int32",
);
const f0 = performance.now();
// The forward pass alone, on one micro-batch (a whole large batch need not fit at once).
await tf.tidy(() => program.forward(tf.slice(images, [0, 0, 0, 0], [microBatch, -1, -1, -1])).logits).data();
const forwardSeconds = (performance.now() - f0) / 1000;
const stepSeconds: number[] = [];
const losses: number[] = [];
for (let i = 0; i < steps; i++) {
  const s0 = performance.now();
  const result = await train.step(images, labels, 1e-3);
  stepSeconds.push((performance.now() - s0) / 1000);
  losses.push(result.loss);
  process.stderr.write(`step ${i + 1}/${steps}: ${stepSeconds.at(-1)!.toFixed(2)} s, loss ${result.loss.toFixed(4)}\n`);
}
process.stdout.write(
  `${JSON.stringify({
    checkpoint: path,
    architecture: backbone.timm?.architecture ?? null,
    image: c.image,
    batch,
    microBatch,
    backend: description,
    threads: backend === "wasm" ? wasmThreads() : null,
    loadSeconds,
    forwardSeconds,
    stepSeconds,
    losses,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    wasmHeapBytes: wasmHeapBytes(),
  })}\n`,
);
tf.dispose([images, labels]);
train.dispose();
program.dispose();
await releaseBackend();
