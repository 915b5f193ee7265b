import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { method, target } from "../../src/dsl/method.js";
import { role } from "../../src/dsl/selector.js";
import { full, lowRank, rescale, type WeightTransform } from "../../src/dsl/transform.js";
import { reconfigure, type Reconfigure } from "../../src/dsl/rule.js";
import { compile, type Program } from "../../src/interpreters/compile/program.js";
import { trainer, type Trainer } from "../../src/interpreters/compile/trainer.js";
import { candidateUnits } from "../../src/interpreters/rules/units.js";
import { budgets, decide, emptyConfiguration, trainingUnits, type Configuration } from "../../src/interpreters/rules/decide.js";
import { compileConfiguration, configuredMethod, migrate, trainableCount } from "../../src/interpreters/rules/configuration.js";
import { sensitivity } from "../../src/interpreters/rules/sensitivity.js";
import { mergedBackbone } from "../../src/interpreters/merge.js";
import { adaptedWeights64 } from "../../src/interpreters/reference/adapt64.js";
import { randomVit } from "../../src/models/randomVit.js";
import { sizeOf, vitSites } from "../../src/models/vitParams.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { siteValues } from "../../src/interpreters/adapterParams.js";
import { readHost } from "../../src/util/hostRead.js";
import { rng } from "../../src/util/random.js";
import { randomAdapterValues, randomImages } from "../../laws/setting.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { crossEntropy64 } from "../support/crossEntropy64.js";

const config: VitConfig = { image: 8, channels: 1, patch: 4, width: 8, depth: 2, heads: 2, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" };
const backbone = randomVit(config, 11);
const head = method({ targets: [target(role("head"), full)] });
const headSize = config.classes * config.width + config.classes;
const modules: Record<string, WeightTransform> = { lora: lowRank({ rank: 2, alpha: 1, scaling: "alpha" }), rescale: rescale({ init: "zeros" }) };
const action = (module: WeightTransform, retain: "refocus" | "accumulate"): Reconfigure => reconfigure({ budget: 0.5, module, retain });
const units = candidateUnits(action(modules.lora!, "refocus"), config);
const images = randomImages(config, 6, 2);
const logits = (p: Program) => readHost(() => p.forward(tf.tensor4d(images, [6, 8, 8, 1])).logits);
const tolerance = { atol: 2e-5, rtol: 1e-4 };

const scoresArb = fc
  .array(fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 10, noNaN: true })), { minLength: units.length, maxLength: units.length })
  .map((s) => new Map(units.map((u, i) => [u.name, s[i]!])));

/** The sites whose tensors the optimiser updates, the head aside. */
const trainingSites = (p: Program) =>
  new Set(p.params.filter((x) => p.mask.get(x.name) && x.placement.site.roles[0] !== "head").map((x) => x.placement.site.name));
const carriedSites = (p: Program) => new Set(p.params.filter((x) => x.placement.site.roles[0] !== "head").map((x) => x.placement.site.name));

interface Real {
  program: Program;
  train: Trainer;
}
type Model = { configuration: Configuration };

/** Rebuild and refocus (Eq. 3): the model function must not move, and the program must hold exactly the configuration. */
class ReconfigureCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly scores: ReadonlyMap<string, number>,
    readonly a: Reconfigure,
    readonly seed: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const before = logits(r.program);
    const next = decide(units, this.scores, budgets(units, this.a.budget, this.a.ratios), m.configuration);
    const program = compileConfiguration(head, this.a, units, next, backbone, 3);
    await migrate(r.program, program);
    expectClose(logits(program), before, tolerance, "logits across the reconfiguration");
    r.train.dispose();
    r.program.dispose();
    r.program = program;
    r.train = trainer(program, settings);
    m.configuration = next;
    expect(trainingSites(program)).toEqual(new Set(trainingUnits(next, this.a.retain)));
    expect(carriedSites(program)).toEqual(new Set(next.present));
    if (this.a.retain === "refocus") {
      const b = budgets(units, this.a.budget, this.a.ratios);
      expect(trainableCount(program) - headSize).toBeLessThanOrEqual(b.matrices + b.vectors + b.special);
    }
    await randomise(program, this.seed);
  }
  toString = () => "reconfigure";
}

/** A training step never changes a unit that carries state but does not train. */
class TrainCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly seed: number,
    readonly a: Reconfigure,
  ) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const before = await r.program.values();
    const x = tf.tensor4d(randomImages(config, 4, this.seed), [4, 8, 8, 1]);
    const y = tf.tensor1d([0, 1, 2, 1], "int32");
    expect((await r.train.step(x, y, 0.05)).applied).toBe(true);
    tf.dispose([x, y]);
    const after = await r.program.values();
    const training = new Set(trainingUnits(m.configuration, this.a.retain));
    for (const p of r.program.params) {
      const site = p.placement.site.name;
      if (p.placement.site.roles[0] === "head" || training.has(site)) continue;
      expect(after.get(p.name), `frozen ${p.name}`).toEqual(before.get(p.name));
    }
    expect(r.program.params.some((p) => p.placement.site.roles[0] === "head" && after.get(p.name)!.some((v, i) => v !== before.get(p.name)![i]))).toBe(true);
  }
  toString = () => `train(${this.seed})`;
}

/** Every module, active or frozen, merges into W: the merged backbone computes the adapted model. */
class MergeCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(_: Model, r: Real) {
    const plain = compile(method({}), await mergedBackbone(r.program), { seed: 0 });
    expectClose(logits(plain), logits(r.program), tolerance, "merged vs adapted logits");
    plain.dispose();
  }
  toString = () => "merge";
}

const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** Stand-in for training having moved every tensor: random, non-identity values (LoRA's B included). */
const randomise = async (p: Program, seed: number) => p.setValues(await randomAdapterValues(p, backbone.weights, seed));

describe("DAF's rebuild and refocus (a reconfigure rule)", () => {
  useBackend();

  it("model-based: train / reconfigure / merge agree with a plain model of the configuration state", async () => {
    const run = fc.tuple(fc.constantFrom("lora", "rescale"), fc.constantFrom<"refocus" | "accumulate">("refocus", "accumulate")).chain(([kind, retain]) => {
      const a = action(modules[kind]!, retain);
      return fc.tuple(
        fc.constant(a),
        fc.commands(
          [
            fc.tuple(scoresArb, fc.integer({ min: 0, max: 999 })).map(([s, k]) => new ReconfigureCommand(s, a, k)),
            fc.integer({ min: 0, max: 99 }).map((k) => new TrainCommand(k, a)),
            fc.constant(new MergeCommand()),
          ],
          { maxCommands: 8 },
        ),
      );
    });
    await fc.assert(
      fc.asyncProperty(run, async ([a, cmds]) => {
        const program = compileConfiguration(head, a, units, emptyConfiguration, backbone, 3);
        await randomise(program, 1);
        const real: Real = { program, train: trainer(program, settings) };
        try {
          await fc.asyncModelRun(() => ({ model: { configuration: emptyConfiguration }, real }), cmds);
        } finally {
          real.train.dispose();
          real.program.dispose();
        }
      }),
      { numRuns: 12, seed: 7 },
    );
  });
});

describe("DAF's perceive: context-aware sensitivity s = Σ|∂L/∂w · w| (Eq. 2)", () => {
  useBackend();

  it("matches central differences of the float64 cross-entropy of the adapted model, modules in the forward pass", async () => {
    const a = action(modules.lora!, "refocus");
    const chosen = ["blocks.0.attn.qkv.weight[v]", "blocks.1.norm1.weight", "blocks.0.mlp.fc2.bias", "cls_token"];
    const configuration: Configuration = { active: chosen.slice(0, 2), present: chosen.slice(0, 2) };
    const program = compileConfiguration(head, a, units, configuration, backbone, 3);
    await randomise(program, 9);
    const r = rng(5, "batches");
    const batches = [0, 1].map(() => ({ images: randomImages(config, 4, r.int(1000)), labels: Int32Array.from({ length: 4 }, () => r.int(3)), count: 4 }));
    const scores = await sensitivity(
      program,
      backbone,
      a,
      units.filter((u) => chosen.includes(u.name)),
      batches,
      [8, 8, 1],
    );
    const values = await program.values();
    const weights64 = adaptedWeights64(configuredMethod(head, a, units, configuration), config, backbone.weights, values);
    const loss = () => crossEntropy64(config, weights64, batches);
    const sites = new Map(vitSites(config).map((s) => [s.name, s]));
    for (const name of chosen) {
      const site = sites.get(name)!;
      const at = site.rows === null ? 0 : site.rows[0] * site.shape[1]!;
      const w64 = weights64.get(site.param)!;
      // w: the backbone's own value — pretrained under a module, the current value of a tuned copy.
      const tuned = program.params.find((p) => p.role === "value" && p.placement.site.name === name);
      const w = tuned ? values.get(tuned.name)! : siteValues(site, backbone.weights);
      let expected = 0;
      for (let i = 0; i < sizeOf(site.shape); i++) {
        const x = w64[at + i]!;
        const h = 1e-5;
        w64[at + i] = x + h;
        const up = loss();
        w64[at + i] = x - h;
        const down = loss();
        w64[at + i] = x;
        expected += Math.abs(((up - down) / (2 * h)) * w[i]!);
      }
      expect(expected, name).toBeGreaterThan(0);
      expect(scores.get(name)! / expected, name).toBeCloseTo(1, 3);
    }
    program.dispose();
  });

  it("DAF-Naive reads the pristine backbone: trained modules do not change its scores, while the context-aware ones move", async () => {
    const chosen = units.filter((u) => u.name.includes("blocks.1."));
    const r = rng(6, "batches");
    const batches = [0, 1].map(() => ({ images: randomImages(config, 4, r.int(1000)), labels: Int32Array.from({ length: 4 }, () => r.int(3)), count: 4 }));
    const configuration: Configuration = { active: [chosen[2]!.name], present: [chosen[2]!.name] };
    const fresh = compileConfiguration(head, action(modules.lora!, "refocus"), units, configuration, backbone, 3);
    const moved = compileConfiguration(head, action(modules.lora!, "refocus"), units, configuration, backbone, 3);
    await randomise(moved, 4);
    const score = (p: Program, analysis: "context" | "pristine") =>
      sensitivity(p, backbone, { ...action(modules.lora!, "refocus"), analysis }, chosen, batches, [8, 8, 1]);
    expect(await score(moved, "pristine")).toEqual(await score(fresh, "pristine"));
    expect(await score(moved, "context")).not.toEqual(await score(fresh, "context"));
    fresh.dispose();
    moved.dispose();
  });
});
