/*
 * The per-step cost of one method against another on the same task, measured in one process
 * with their steps interleaved (so machine noise hits both alike): median ms per train step and
 * the ratio. Run: `npm run build && node dist/examples/step-overhead.js BASE.json VARIANT.json [steps]`,
 * e.g. examples/experiments/lora.json against examples/experiments/lora-baft.json.
 */
import * as tf from "@tensorflow/tfjs-core";
import { compile, loadBackend, releaseBackend, trainer, withZeroHead, buildTask, taskClasses } from "../src/index.js";
import { readExperiment } from "../src/cli/readInput.js";
import { epochBatches } from "../src/data/dataset.js";
import { backbonePath, readBackboneFile } from "../src/train/loadBackbone.js";
import { isPrelude, runPrelude } from "../src/interpreters/rules/prelude.js";

const [baseFile, variantFile, stepsArg] = process.argv.slice(2);
if (!baseFile || !variantFile) {
  console.error("usage: step-overhead BASE.json VARIANT.json [steps]");
  process.exit(2);
}
const steps = Number(stepsArg ?? 30);

console.log(`backend: ${await loadBackend("wasm")}`);
const runs = await Promise.all(
  [baseFile, variantFile].map(async (file) => {
    const { experiment: exp, baseDir } = readExperiment(file);
    const loaded = readBackboneFile(backbonePath(exp.backbone.weights, baseDir));
    const backbone = exp.backbone.head === "reset" ? withZeroHead(loaded, taskClasses(exp.data)) : loaded;
    if (exp.data._tag === "ImageFolder" || exp.data._tag === "ImageList") throw new Error(`${file}: step-overhead measures in-memory tasks (MNIST, mini-VTAB)`);
    const data = buildTask(exp.data, backbone.config);
    const program = compile(exp.method, backbone, { seed: exp.seed });
    for (const rule of exp.method.rules.filter(isPrelude))
      program.setValues((await runPrelude(rule, program, backbone, data.train, exp.schedule.batchSize)).values);
    const o = exp.optimizer;
    const t = trainer(program, { beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, labelSmoothing: exp.labelSmoothing });
    const batches = epochBatches(data.train, exp.schedule.batchSize, exp.seed, 0).filter((b) => b.count === exp.schedule.batchSize);
    return { file, exp, program, t, batches, shape: data.train.shape, times: [] as number[] };
  }),
);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Two warm-up steps each, then `steps` interleaved timed steps; the order alternates so neither always runs first.
for (let i = 0; i < steps + 2; i++) {
  for (const r of i % 2 === 0 ? runs : [...runs].reverse()) {
    const b = r.batches[i % r.batches.length]!;
    const images = tf.tensor4d(b.images, [b.count, ...r.shape]);
    const labels = tf.tensor1d(b.labels, "int32");
    const t0 = performance.now();
    await r.t.step(images, labels, r.exp.optimizer.lr);
    if (i >= 2) r.times.push(performance.now() - t0);
    images.dispose();
    labels.dispose();
  }
}
const [base, variant] = runs.map((r) => median(r.times));
for (const r of runs) console.log(`${r.exp.name}: median ${median(r.times).toFixed(1)} ms/step over ${r.times.length} steps (${r.file})`);
console.log(`ratio: ${(variant! / base!).toFixed(3)}`);
for (const r of runs) {
  r.t.dispose();
  r.program.dispose();
}
await releaseBackend();
