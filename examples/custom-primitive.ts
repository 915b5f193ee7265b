/*
 * A primitive the library does not have, added from user code: LoHa's core (Hyeon-Woo et al.
 * 2022, FedPara), a Hadamard product of two low-rank factors,
 *   ΔW = s · (B₁ A₁) ⊙ (B₂ A₂),   A_i ∈ ℝ^{r×din}, B_i ∈ ℝ^{dout×r},
 * rank up to r² with 2r(dout + din) parameters. B₂ starts at zero, so ΔW does (identity at init).
 * It is checked against every law, then trained on the demo task:
 *   `npm run build && node dist/examples/custom-primitive.js [epochs]`
 * and the module's default export is an experiment `peft train` runs:
 *   `peft train dist/examples/custom-primitive.js --out runs/loha`.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { Effect } from "effect";
import { checkLaws } from "../laws/index.js";
import {
  combine,
  customPrimitive,
  defaultMetrics,
  describeMethod,
  intIn,
  linearProbe,
  loadBackend,
  method,
  positive,
  role,
  runExperiment,
  streamProgress,
  struct,
  target,
  tfBackendLayer,
  type CustomPrimitiveSpec,
  type Experiment,
} from "../src/index.js";
import { demoConfig } from "../src/cli/commands/pretrain.js";

export interface LohaFields {
  readonly rank: number;
  readonly alpha: number;
}

/** Everything LoHa means, in one value. */
export const lohaSpec: CustomPrimitiveSpec<LohaFields> = {
  name: "loha",
  fields: struct("loha", { rank: intIn(1, 4096), alpha: positive }),
  show: (f) => `loha(r=${f.rank}, s=${f.alpha}/${f.rank})`,
  formula: (f) => `ΔW = (${f.alpha}/${f.rank})·(B₁A₁) ⊙ (B₂A₂), A_i ∈ ℝ^{${f.rank}×din}, B_i ∈ ℝ^{dout×${f.rank}}`,
  appliesTo: (_, site) => site.matrix,
  count: (f, site) => 2 * f.rank * (site.shape[0]! + site.shape[1]!),
  tensors: (f, site) => {
    const [dout, din] = site.shape as [number, number];
    const a = (path: string) => ({ path, role: path, shape: [f.rank, din], init: { _tag: "KaimingUniform", fanIn: din } as const, trainable: true });
    return [
      a("hada_w1_a"),
      { path: "hada_w1_b", role: "hada_w1_b", shape: [dout, f.rank], init: { _tag: "KaimingUniform", fanIn: f.rank }, trainable: true },
      a("hada_w2_a"),
      { path: "hada_w2_b", role: "hada_w2_b", shape: [dout, f.rank], init: { _tag: "Zeros" }, trainable: true },
    ];
  },
  startsAtIdentity: () => true,
  delta: (f, tensor) => {
    const product = (b: string, a: string) => tf.matMul(tensor(b) as tf.Tensor2D, tensor(a) as tf.Tensor2D);
    return tf.mul(tf.mul(product("hada_w1_b", "hada_w1_a"), product("hada_w2_b", "hada_w2_a")), f.alpha / f.rank);
  },
  delta64: (f, value, dout, din) => {
    const [a1, b1, a2, b2] = [value("hada_w1_a"), value("hada_w1_b"), value("hada_w2_a"), value("hada_w2_b")];
    const d = new Float64Array(dout * din);
    for (let o = 0; o < dout; o++) {
      for (let i = 0; i < din; i++) {
        let p1 = 0;
        let p2 = 0;
        for (let k = 0; k < f.rank; k++) {
          p1 += b1[o * f.rank + k]! * a1[k * din + i]!;
          p2 += b2[o * f.rank + k]! * a2[k * din + i]!;
        }
        d[o * din + i] = (f.alpha / f.rank) * p1 * p2;
      }
    }
    return d;
  },
  arbitrary: fc.record({ rank: fc.integer({ min: 1, max: 3 }), alpha: fc.constantFrom(1, 2, 4) }),
};

export const loha = customPrimitive(lohaSpec);

/** LoHa r4 on q and v, and a new head. */
export const lohaMethod = combine(method({ targets: [target(role("q", "v"), loha.transform({ rank: 4, alpha: 4 }))] }), linearProbe());

const experiment: Experiment = {
  name: "LoHa r4 (q, v) + head, a primitive defined outside the library",
  backbone: { weights: "default", head: "reset" },
  data: { _tag: "Mnist", digits: [5, 6, 7, 8, 9], split: { _tag: "Vtab1k", train: 800, val: 200 }, seed: 0, testLimit: null },
  method: lohaMethod,
  optimizer: { _tag: "AdamW", lr: 0.005, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  schedule: { epochs: 3, batchSize: 32, warmupEpochs: 1, minLr: 0, shape: { _tag: "Cosine" } },
  labelSmoothing: 0,
  dropPath: 0,
  metrics: defaultMetrics,
  seed: 0,
};
export default experiment;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = demoConfig(5);
  console.log(describeMethod(lohaMethod, config));
  await loadBackend("wasm");
  const reports = await checkLaws(lohaMethod, { config, runs: 3 });
  for (const r of reports) console.log(`${r.ok ? "✓" : "✗"} ${r.law}${r.failure ? `: ${r.failure}` : ""}`);
  if (reports.some((r) => !r.ok)) process.exit(1);
  const epochs = Number(process.argv[2] ?? experiment.schedule.epochs);
  const outDir = mkdtempSync(join(tmpdir(), "peft-loha-"));
  const result = await Effect.runPromise(
    Effect.scoped(
      runExperiment(
        { ...experiment, schedule: { ...experiment.schedule, epochs } },
        { outDir, resume: false, progress: streamProgress(), baseDir: process.cwd() },
      ),
    ).pipe(Effect.provide(tfBackendLayer("wasm"))),
  );
  console.log(`test accuracy ${(100 * result.metrics.testAccuracy).toFixed(2)}% after ${epochs} epoch(s); outputs in ${outDir}`);
}
