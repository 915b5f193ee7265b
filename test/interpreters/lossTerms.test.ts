import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { combine, method, target, type Method } from "../../src/dsl/method.js";
import { role } from "../../src/dsl/selector.js";
import { full } from "../../src/dsl/transform.js";
import { baft, l2sp, lora, rift, riftStar, rsc } from "../../src/methods/index.js";
import { compile, type Program } from "../../src/interpreters/compile/program.js";
import { trainer } from "../../src/interpreters/compile/trainer.js";
import { featureStatistics } from "../../src/interpreters/rules/featureStatistics.js";
import { representationMetrics } from "../../src/interpreters/representation.js";
import { referenceForward } from "../../src/interpreters/reference/forward.js";
import { linearCka64, moments64 } from "../../src/losses/float64.js";
import { orthogonalOf } from "../../src/ops/orthogonalExp.js";
import { randomVit } from "../../src/models/randomVit.js";
import { tokens, type VitConfig } from "../../src/models/vitConfig.js";
import type { Backbone } from "../../src/models/backbone.js";
import { inMemory, type InMemoryDataset } from "../../src/data/dataset.js";
import { rng } from "../../src/util/random.js";
import { readHost } from "../../src/util/hostRead.js";
import { randomAdapterValues } from "../../laws/setting.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";

const config: VitConfig = { image: 8, channels: 1, patch: 4, width: 8, depth: 3, heads: 2, mlpRatio: 2, classes: 4, layerNormEps: 1e-6, gelu: "erf" };
const head = method({ targets: [target(role("head"), full)] });

const dataset = (count: number, seed: number): InMemoryDataset => {
  const r = rng(seed, "data");
  return inMemory(
    Float32Array.from({ length: count * 64 }, () => r.normal()),
    Int32Array.from({ length: count }, () => r.int(4)),
    [8, 8, 1],
  );
};

/** Compile, set RIFT's statistics as its rule would, train `steps` AdamW steps on one random batch. */
const trained = async (m: Method, backbone: Backbone, steps: number, lr: number, f: (program: Program) => void | Promise<void>) => {
  const program = compile(m, backbone, { seed: 5 });
  const data = dataset(16, 3);
  const t = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  const images = tf.tensor4d(data.images, [16, 8, 8, 1]);
  const labels = tf.tensor1d(data.labels, "int32");
  try {
    program.setValues((await featureStatistics(program, dataset(40, 4), 16)).values);
    for (let s = 0; s < steps; s++) expect((await t.step(images, labels, lr)).applied).toBe(true);
    await f(program);
  } finally {
    t.dispose();
    images.dispose();
    labels.dispose();
    program.dispose();
  }
};

describe("loss terms in training", () => {
  useBackend();

  it("RIFT's Q = exp(M − Mᵀ) stays orthogonal to 1e-5 after 100 training steps that move it far from I", async () => {
    await trained(combine(lora(), head, rift({ weight: 10 })), randomVit(config, 5), 100, 0.02, (program) => {
      const m = program.variables.get("losses[0].rotation")! as tf.Tensor2D;
      const q = readHost(() => orthogonalOf(m));
      const eye = Float64Array.from({ length: 64 }, (_, k) => (k % 9 === 0 ? 1 : 0));
      expect(Math.sqrt(q.reduce((s, v, k) => s + (v - eye[k]!) ** 2, 0)), "‖Q − I‖_F").toBeGreaterThan(0.5);
      const qtq = readHost(() => tf.matMul(tf.transpose(orthogonalOf(m)), orthogonalOf(m)));
      expectClose(qtq, eye, { atol: 1e-5, rtol: 0 }, "QᵀQ");
    });
  });

  it("adding terms with λ = 0 (BAFT, RIFT* with its rule, RSC, L2-SP) leaves 5 training steps bit-identical", async () => {
    const backbone = randomVit(config, 6);
    const base = combine(lora(), head);
    let plain = new Map<string, unknown>();
    await trained(base, backbone, 5, 0.01, async (p) => {
      plain = await p.values();
    });
    await trained(combine(base, baft({ weight: 0 }), riftStar({ weight: 0 }), rsc({ weight: 0 }), l2sp({ weight: 0 })), backbone, 5, 0.01, async (p) => {
      const withTerms = await p.values();
      for (const [k, v] of plain) expect([...withTerms.get(k)!], k).toEqual([...(v as Float32Array)]);
    });
    // The same terms with λ > 0 do change training: the comparison can fail.
    await trained(combine(base, baft({ weight: 1 })), backbone, 5, 0.01, async (p) => {
      expect([...(await p.values()).get([...plain.keys()][1]!)!]).not.toEqual([...(plain.get([...plain.keys()][1]!) as Float32Array)]);
    });
  });

  it("BAFT with detached predictions sends no gradient to the head (which only moves the predictions); attached, it does", async () => {
    const backbone = randomVit(config, 7);
    const data = dataset(8, 8);
    for (const detach of [true, false]) {
      const program = compile(combine(lora(), head, baft({ weight: 1, detachPredictions: detach })), backbone, { seed: 7 });
      try {
        program.setValues(await randomAdapterValues(program, backbone.weights, 7));
        const headVar = program.variables.get("head.weight/1/value")!;
        const g = readHost(() => {
          const images = tf.tensor4d(data.images, [8, 8, 8, 1]);
          return tf.variableGrads(() => program.lossTerm(0, program.forward(images), images), [headVar]).grads[headVar.name]!;
        });
        const size = Math.max(...g.map(Math.abs));
        if (detach) expect(size).toBe(0);
        else expect(size).toBeGreaterThan(1e-4);
      } finally {
        program.dispose();
      }
    }
  });

  it("featureStatistics sets μ_p and Σ_p of the pretrained model's head input over the whole training set (= float64 reference)", async () => {
    const backbone = randomVit(config, 9);
    const program = compile(combine(lora(), rift()), backbone, { seed: 9 });
    try {
      program.setValues(await randomAdapterValues(program, backbone.weights, 9));
      const data = dataset(37, 10);
      const { values, record } = await featureStatistics(program, data, 16);
      const pre = referenceForward(method({}), backbone, new Map(), Float64Array.from(data.images), 37).preLogits;
      const expected = moments64(pre, 37, 8);
      expect(record.examples).toBe(37);
      expectClose(values.get("losses[0].mean")!, expected.mean, { atol: 1e-5, rtol: 1e-4 }, "μ_p");
      expectClose(values.get("losses[0].covariance")!, expected.covariance, { atol: 1e-5, rtol: 1e-4 }, "Σ_p");
    } finally {
      program.dispose();
    }
  });
});

describe("representation metrics", () => {
  useBackend();

  it("Sim is the float64 linear CKA of pretrained and tuned head inputs; token cosine matches the float64 blocks; at init Sim = 1", async () => {
    const backbone = randomVit(config, 11);
    const program = compile(combine(lora(), head), backbone, { seed: 11 });
    const data = dataset(30, 12);
    try {
      const atInit = await representationMetrics(program, data, 30, 7);
      expectClose([atInit.sim], [1], { atol: 1e-6, rtol: 0 }, "Sim at init");
      expect(atInit.tuned).toEqual(atInit.pretrained);
      const values = await randomAdapterValues(program, backbone.weights, 11);
      program.setValues(values);
      const metrics = await representationMetrics(program, data, 25, 7);
      expect(metrics.examples).toBe(25);
      const images = Float64Array.from(data.images.subarray(0, 25 * 64));
      const tuned = referenceForward(combine(lora(), head), backbone, values, images, 25);
      const pretrained = referenceForward(method({}), backbone, new Map(), images, 25);
      expectClose([metrics.sim], [linearCka64(pretrained.preLogits, tuned.preLogits, 25, 8, 8)], { atol: 1e-5, rtol: 1e-4 }, "Sim");
      expect(metrics.sim).toBeLessThan(0.999);
      const t = tokens(config);
      const tokenCosine = tuned.blocks.map((b) => {
        let total = 0;
        for (let i = 0; i < 25; i++) {
          const rows = Array.from({ length: t }, (_, a) => b.subarray((i * t + a) * 8, (i * t + a + 1) * 8));
          let s = 0;
          for (let a = 0; a < t; a++)
            for (let c = 0; c < t; c++)
              if (a !== c) s += rows[a]!.reduce((x, v, k) => x + v * rows[c]![k]!, 0) / (Math.hypot(...rows[a]!) * Math.hypot(...rows[c]!));
          total += s / (t * (t - 1));
        }
        return total / 25;
      });
      expectClose(metrics.tuned.tokenCosine, tokenCosine, { atol: 1e-5, rtol: 1e-4 }, "token cosine");
    } finally {
      program.dispose();
    }
  });

  it("attention entropy is ln(tokens) exactly when q and k are zero (uniform attention), and lower otherwise", async () => {
    const backbone = randomVit(config, 13);
    const qkv = backbone.weights.get("blocks.1.attn.qkv.weight")!;
    const flat = new Map(backbone.weights);
    const w = config.width;
    flat.set("blocks.1.attn.qkv.weight", { shape: qkv.shape, data: qkv.data.map((v, i) => (i < 2 * w * w ? 0 : v)) });
    flat.set("blocks.1.attn.qkv.bias", { shape: [3 * w], data: backbone.weights.get("blocks.1.attn.qkv.bias")!.data.map((v, i) => (i < 2 * w ? 0 : v)) });
    const program = compile(method({}), { config, weights: flat }, { seed: 0 });
    try {
      const m = await representationMetrics(program, dataset(10, 14), 10);
      expectClose([m.tuned.attentionEntropy[1]!], [Math.log(tokens(config))], { atol: 1e-5, rtol: 0 }, "uniform attention");
      expect(m.tuned.attentionEntropy[0]!).toBeLessThan(Math.log(tokens(config)) - 1e-3);
    } finally {
      program.dispose();
    }
  });
});
