import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { s2ft } from "../../src/methods/index.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { gradientEstimate } from "../../src/interpreters/rules/gradientEstimate.js";
import { preEstimate } from "../../src/interpreters/rules/backboneGradient.js";
import { referenceForward } from "../../src/interpreters/reference/forward.js";
import { resolveSelector } from "../../src/interpreters/resolve.js";
import { role } from "../../src/dsl/selector.js";
import { randomVit } from "../../src/models/randomVit.js";
import { withZeroHead } from "../../src/models/backbone.js";
import { readBackboneFile } from "../../src/train/loadBackbone.js";
import { defaultBackbonePath } from "../../src/util/packageRoot.js";
import { buildTask } from "../../src/data/task.js";
import type { Dataset } from "../../src/data/dataset.js";
import type { GradientEstimate } from "../../src/dsl/rule.js";
import { rng } from "../../src/util/random.js";
import { readHost } from "../../src/util/hostRead.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { crossEntropy64 } from "../support/crossEntropy64.js";

describe("S²FT's gradient pre-estimate (a `once` rule)", () => {
  useBackend();

  it("ΔŴ = −Σ∇W L matches central differences of the float64 cross-entropy", async () => {
    const config = { image: 4, channels: 1, patch: 2, width: 4, depth: 1, heads: 1, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" as const };
    const backbone = randomVit(config, 7);
    const r = rng(7, "data");
    const batches = [0, 1].map(() => ({
      images: Float32Array.from({ length: 5 * 16 }, () => r.normal()),
      labels: Int32Array.from({ length: 5 }, () => r.int(3)),
      count: 5,
    }));
    const site = resolveSelector(role("v"), config)[0]!;
    const estimate = (await preEstimate(backbone, [site], batches, [4, 4, 1])).get(site.name)!;
    const weights64 = new Map([...backbone.weights].map(([k, v]) => [k, Float64Array.from(v.data)]));
    const qkv = weights64.get("blocks.0.attn.qkv.weight")!;
    const loss = () => crossEntropy64(config, weights64, batches);
    for (const entry of [0, 5, 15]) {
      const at = site.rows![0] * 4 + entry;
      const w = qkv[at]!;
      const h = 1e-5;
      qkv[at] = w + h;
      const up = loss();
      qkv[at] = w - h;
      const down = loss();
      qkv[at] = w;
      expect(estimate[entry]!).toBeCloseTo(-(up - down) / (2 * h), 4);
    }
  });

  it("sets permutations whose tours shorten ΔŴ's paths and positions where the permuted spectrum has energy, deterministically", async () => {
    const base = withZeroHead(readBackboneFile(defaultBackbonePath()), 5);
    const task = buildTask({ _tag: "Mnist", digits: [5, 6, 7, 8, 9], split: { _tag: "Vtab1k", train: 128, val: 10 }, seed: 0, testLimit: 10 }, base.config);
    const train: Dataset = task.train;
    const method = s2ft({ coefficients: 64, batches: 4 });
    const program = compile(method, base, { seed: 0 });
    try {
      const { values, record } = await gradientEstimate(program, base, method.rules[0]!.action as GradientEstimate, train, 32);
      expect([record.head, record.batches, record.examples, record.sites.length]).toEqual(["class means", 4, 128, 8]);
      for (const p of program.params) {
        const v = [...values.get(p.name)!];
        if (p.role === "perm_rows" || p.role === "perm_cols") {
          expect([...v].sort((a, b) => a - b)).toEqual(v.map((_, i) => i));
          expect(v).not.toEqual(v.map((_, i) => i));
        }
        if (p.role === "positions") {
          expect(new Set(v).size).toBe(64);
          expect(v.every((x, i) => x >= 0 && x < 64 * 64 && (i === 0 || x > v[i - 1]!))).toBe(true);
        }
      }
      for (const s of record.sites) {
        expect(s.rows!.tour, s.site).toBeLessThan(s.rows!.identity);
        expect(s.cols!.tour, s.site).toBeLessThan(s.cols!.identity);
        expect(s.positions!.energyShare, s.site).toBeGreaterThan(5 * s.positions!.uniformShare);
      }
      const again = (await gradientEstimate(program, base, method.rules[0]!.action as GradientEstimate, train, 32)).values;
      for (const [k, v] of values) expect([...again.get(k)!], k).toEqual([...v]);

      // With the estimated orders and positions (and a random spectrum), compiled = float64 reference.
      const r = rng(3, "spectrum");
      for (const p of program.params)
        if (p.role === "spectrum")
          values.set(
            p.name,
            Float32Array.from({ length: 64 }, () => r.normal()),
          );
      program.setValues(values);
      const images = train.read([0, 1, 2, 3]);
      const compiled = readHost(() => program.forward(tf.tensor4d(images, [4, 28, 28, 1])).logits);
      expectClose(compiled, referenceForward(method, base, values, Float64Array.from(images), 4).logits, { atol: 1e-4, rtol: 1e-4 }, "logits");
    } finally {
      program.dispose();
    }
  });
});
