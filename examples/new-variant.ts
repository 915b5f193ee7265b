/*
 * A method that exists in no paper — 1-bit LoRA plus a sparse spectrum, both inside one
 * randomly permuted domain, on q and v — written as an expression, checked against every law,
 * then trained on the demo task (digits 5–9 from 800 images) with the embedded backbone.
 * Run: `npm run build && node dist/examples/new-variant.js [epochs]`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect } from "effect";
import { checkLaws } from "../laws/index.js";
import {
  combine,
  countMethod,
  defaultMetrics,
  describeMethod,
  linearProbe,
  loadBackend,
  lowRank,
  method,
  permuted,
  quantized,
  role,
  runExperiment,
  spectral,
  streamProgress,
  sum,
  target,
  tfBackendLayer,
  type Experiment,
} from "../src/index.js";
import { demoConfig } from "../src/cli/commands/pretrain.js";

const variant = combine(
  method({
    targets: [
      target(
        role("q", "v"),
        permuted(
          { rows: { _tag: "Random", seed: 1 }, cols: { _tag: "Random", seed: 2 } },
          sum(quantized({ bits: 1 }, lowRank({ rank: 4, alpha: 1, scaling: "alpha" })), spectral({ coefficients: 128, scale: 300, init: "zeros" })),
        ),
      ),
    ],
  }),
  linearProbe(),
);

const config = demoConfig(5);
console.log(describeMethod(variant, config));

await loadBackend("wasm");
const reports = await checkLaws(variant, { config, runs: 3 });
for (const r of reports) console.log(`${r.ok ? "✓" : "✗"} ${r.law}${r.failure ? `: ${r.failure}` : ""}`);
if (reports.some((r) => !r.ok)) process.exit(1);

const experiment: Experiment = {
  name: "1-bit LoRA + sparse spectrum in a permuted domain",
  backbone: { weights: "default", head: "reset" },
  data: { _tag: "Mnist", digits: [5, 6, 7, 8, 9], split: { _tag: "Vtab1k", train: 800, val: 200 }, seed: 0, testLimit: null },
  method: variant,
  optimizer: { _tag: "AdamW", lr: 0.005, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  schedule: { epochs: Number(process.argv[2] ?? 3), batchSize: 32, warmupEpochs: 1, minLr: 0, shape: { _tag: "Cosine" } },
  labelSmoothing: 0,
  dropPath: 0,
  metrics: defaultMetrics,
  seed: 0,
};
const outDir = mkdtempSync(join(tmpdir(), "peft-variant-"));
const result = await Effect.runPromise(
  Effect.scoped(runExperiment(experiment, { outDir, resume: false, progress: streamProgress(), baseDir: process.cwd() })).pipe(
    Effect.provide(tfBackendLayer("wasm")),
  ),
);
console.log(`${countMethod(variant, config).trainable} trainable; test accuracy ${(100 * result.metrics.testAccuracy).toFixed(2)}%; outputs in ${outDir}`);
