import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { readFileSync } from "node:fs";
import { loadBackend } from "../../src/train/backend.js";
import { readBackboneFile } from "../../src/train/loadBackbone.js";
import { compile, type Program } from "../../src/interpreters/compile/program.js";
import { trainer } from "../../src/interpreters/compile/trainer.js";
import { combine, type Method } from "../../src/dsl/method.js";
import { fourierFT, fullFineTuning, linearProbe, lora } from "../../src/methods/index.js";
import { randomAdapterValues, randomImages } from "../../laws/setting.js";
import type { AdapterParam } from "../../src/interpreters/adapterParams.js";
import type { Backbone } from "../../src/models/backbone.js";
import { fixturePath } from "../support/fixtures.js";

/*
 * Which tensors AdamW decays, against timm's own optimiser factory (create_optimizer_v2 →
 * param_groups_weight_decay) on the same architectures: test/fixtures/timm/weight-decay.json,
 * written by scripts/timm/decay_fixture.py. What is compared is what the optimiser does, not the
 * flag that asks for it: one step from the same values with and without weight decay λ differs by
 * exactly −lr·λ·p on a decayed tensor and not at all on another.
 */
type Groups = { readonly decay: readonly string[]; readonly noDecay: readonly string[] };
const fixture = JSON.parse(readFileSync(fixturePath("timm/weight-decay.json"), "utf8")) as Record<string, Groups>;
const variants = ["plain", "no-qkv-bias", "avg-fc-norm", "token-fc-norm", "dinov2-reg", "deit3", "clip-quickgelu", "gelu-tanh"] as const;

const [lr, lambda] = [0.01, 0.5];

/** Each trainable tensor and whether one AdamW step decayed it (the slope of the step's change in −lr·λ·p: 1 or 0). */
const decayed = async (method: Method, backbone: Backbone): Promise<Map<AdapterParam, boolean>> => {
  const program: Program = compile(method, backbone, { seed: 1 });
  // Nonzero everywhere (LoRA's B starts at 0, where decay would not show).
  const start = await randomAdapterValues(program, backbone.weights, 2);
  const c = backbone.config;
  const images = tf.tensor4d(randomImages(c, 4, 3), [4, c.image, c.image, c.channels]);
  const labels = tf.tensor1d(
    [0, 1, 2, 3].map((i) => i % c.classes),
    "int32",
  );
  const after = async (weightDecay: number) => {
    program.setValues(start);
    const t = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay });
    await t.step(images, labels, lr);
    t.dispose();
    return program.values();
  };
  const [plain, withDecay] = [await after(0), await after(lambda)];
  const out = new Map<AdapterParam, boolean>();
  for (const p of program.params.filter((q) => q.trainable)) {
    const [p0, a, b] = [start.get(p.name)!, plain.get(p.name)!, withDecay.get(p.name)!];
    let [along, norm] = [0, 0];
    p0.forEach((v, i) => {
      along += (b[i]! - a[i]!) * v;
      norm += -lr * lambda * v * v;
    });
    const slope = along / norm;
    expect(Math.min(Math.abs(slope), Math.abs(slope - 1)), `${p.name}: the change is ${slope} × (−lr·λ·p)`).toBeLessThan(1e-3);
    out.set(p, slope > 0.5);
  }
  tf.dispose([images, labels]);
  program.dispose();
  return out;
};

const split = (decays: Map<AdapterParam, boolean>, name: (p: AdapterParam) => string): Groups => ({
  decay: [...decays].filter(([, d]) => d).map(([p]) => name(p)),
  noDecay: [...decays].filter(([, d]) => !d).map(([p]) => name(p)),
});
const sorted = (g: Groups): Groups => ({ decay: [...g.decay].sort(), noDecay: [...g.noDecay].sort() });

describe("weight decay: which tensors AdamW decays, as timm's optimiser factory groups them", () => {
  beforeAll(() => loadBackend("cpu"));

  it.each(variants)(
    "full fine-tuning of timm's %s ViT: matrices and the patch kernel decay; biases, norms, layer scales, tokens and pos_embed do not",
    async (v) => {
      const backbone = readBackboneFile(fixturePath(`timm/${v}`));
      const ours = split(await decayed(fullFineTuning(), backbone), (p) => p.placement.site.param);
      expect(sorted(ours)).toEqual(sorted(fixture[v]!));
    },
  );

  // Our adapters sit on q and v, HF PEFT's on the fused qkv: compared by block and tensor kind.
  const peftName = (peftTensor: (role: string) => string) => (p: AdapterParam) =>
    p.placement.site.param.startsWith("head.")
      ? `base_model.model.head.modules_to_save.default.${p.placement.site.param.slice("head.".length)}`
      : `base_model.model.blocks.${p.placement.site.block}.attn.qkv.${peftTensor(p.role)}`;
  it.each([
    [
      "lora",
      "LoRA's factors and the head's weight decay, the head's bias does not",
      combine(lora({ rank: 2 }), linearProbe()),
      (role: string) => `${role}.default.weight`,
    ],
    [
      "fourierft",
      "FourierFT's spectra (vectors) and the head's bias do not decay, the head's weight does",
      combine(fourierFT({ coefficients: 20 }), linearProbe()),
      () => "fourierft_spectrum.default",
    ],
  ] as const)("%s + head in HF PEFT's layout under timm's rule: %s", async (name, _, method, peftTensor) => {
    const ours = split(await decayed(method, readBackboneFile(fixturePath("timm/plain"))), peftName(peftTensor));
    expect(new Set(ours.decay)).toEqual(new Set(fixture[name]!.decay));
    expect(new Set(ours.noDecay)).toEqual(new Set(fixture[name]!.noDecay));
  });
});
