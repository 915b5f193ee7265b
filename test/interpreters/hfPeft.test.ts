import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { loadBackend } from "../../src/train/backend.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { adapterBytes, readAdapter } from "../../src/interpreters/adapterFile.js";
import { mergedBackbone } from "../../src/interpreters/merge.js";
import { toHfPeft, type HfPeftAdapter } from "../../src/interpreters/hfPeft/export.js";
import { fromHfPeft } from "../../src/interpreters/hfPeft/import.js";
import { vitForward64 } from "../../src/interpreters/reference/vit64.js";
import { combine, method, target, type Method } from "../../src/dsl/method.js";
import { glob, role } from "../../src/dsl/selector.js";
import { full, lowRank, rescale, spectral } from "../../src/dsl/transform.js";
import { fourierFT, linearProbe, lora } from "../../src/methods/index.js";
import { withZeroHead, type Backbone } from "../../src/models/backbone.js";
import { readSafetensors, writeSafetensors } from "../../src/models/safetensors.js";
import { readBackboneFile } from "../../src/train/loadBackbone.js";
import { torchRandperm } from "../../src/util/torchRandperm.js";
import { readHost } from "../../src/util/hostRead.js";
import { randomAdapterValues, randomImages } from "../../laws/setting.js";
import { expectClose } from "../support/close.js";
import { fixturePath } from "../support/fixtures.js";

const base = (): Backbone => readBackboneFile(fixturePath("timm/plain"));
const classes = 3;
const torchPositions = { _tag: "TorchRandperm", seed: 777 } as const;

/**
 * What `PeftModel.from_pretrained(timm.create_model(arch, num_classes=k), DIR)` computes, written
 * from HF PEFT's layer code (lora/layer.py, fourierft/layer.py), in float64 and without any of our
 * interpreters: W += (α/r)·B A per LoRA module (rank_pattern / alpha_pattern by module name),
 * W += scaling·Re(ifft2(S)) with S at torch.randperm(out·in)[:n] (row-major: u = p // in,
 * v = p % in), and modules_to_save replacing their modules' parameters.
 */
const hfModelWeights = (hf: HfPeftAdapter, b: Backbone): Map<string, Float64Array> => {
  const c = hf.config as Record<string, any>;
  const tensors = new Map(hf.tensors.map((t) => [t.name, t]));
  const w = new Map([...b.weights].map(([k, v]) => [k, Float64Array.from(v.data)]));
  const pattern = (p: Record<string, number>, m: string, d: number) => Object.entries(p).find(([k]) => new RegExp(`^(.*\\.)?(${k})$`).test(m))?.[1] ?? d;
  for (const m of c.target_modules as string[]) {
    const weight = w.get(`${m}.weight`)!;
    const out = b.weights.get(`${m}.weight`)!.shape[0]!;
    const din = weight.length / out;
    if (c.peft_type === "LORA") {
      const a = tensors.get(`base_model.model.${m}.lora_A.weight`)!.data;
      const bb = tensors.get(`base_model.model.${m}.lora_B.weight`)!.data;
      const r = pattern(c.rank_pattern, m, c.r);
      const s = pattern(c.alpha_pattern, m, c.lora_alpha) / r;
      for (let i = 0; i < out; i++)
        for (let j = 0; j < din; j++) {
          let d = 0;
          for (let k = 0; k < r; k++) d += bb[i * r + k]! * a[k * din + j]!;
          weight[i * din + j]! += s * d;
        }
    } else {
      const spectrum = tensors.get(`base_model.model.${m}.fourierft_spectrum`)!.data;
      const positions = torchRandperm(out * din, c.random_loc_seed, spectrum.length);
      for (let i = 0; i < out; i++)
        for (let j = 0; j < din; j++) {
          let d = 0;
          positions.forEach((p, q) => (d += spectrum[q]! * Math.cos(2 * Math.PI * ((Math.floor(p / din) * i) / out + ((p % din) * j) / din))));
          weight[i * din + j]! += (c.scaling * d) / (out * din);
        }
    }
  }
  for (const t of hf.tensors) {
    const name = t.name.slice("base_model.model.".length);
    if ((c.modules_to_save ?? []).some((m: string) => name.startsWith(`${m}.`))) w.set(name, Float64Array.from(t.data));
  }
  return w;
};

const adapted = async (m: Method, seed: number) => {
  const backbone = withZeroHead(base(), classes);
  const program = compile(m, backbone, { seed });
  program.setValues(await randomAdapterValues(program, backbone.weights, seed));
  const adapter = readAdapter(await adapterBytes(program, "reset"), "adapter");
  const merged = await mergedBackbone(program);
  return { backbone, program, adapter, merged };
};

const images = Float32Array.from(randomImages(base().config, 3, 9));
const imagesTensor = () => tf.tensor4d(images, [3, 16, 16, 3]);

const exportable: Readonly<Record<string, Method>> = {
  "LoRA on the q and v thirds of qkv + head": combine(lora({ rank: 2, alpha: 4 }), linearProbe()),
  "LoRA on whole linears with two ranks, a trained norm and head": combine(
    method({
      targets: [
        target(role("qkv"), lowRank({ rank: 2, alpha: 2 })),
        target(role("fc1", "patch"), lowRank({ rank: 4, alpha: 12 })),
        target(glob("blocks.0.norm1.*"), full),
      ],
    }),
    linearProbe(),
  ),
  "two LoRA terms of different scales on q and on qkv's k": combine(
    method({ targets: [target(role("q"), lowRank({ rank: 1, alpha: 3 })), target(role("k"), lowRank({ rank: 2, alpha: 1 }))] }),
    linearProbe(),
  ),
  "FourierFT on fc1 and proj at torch's randperm positions + head": combine(
    method({ targets: [target(role("fc1", "proj"), spectral({ coefficients: 6, scale: 5, positions: torchPositions }))] }),
    linearProbe(),
  ),
};

describe("Hugging Face PEFT files out and in", () => {
  beforeAll(() => loadBackend("cpu"));
  afterAll(() => tf.disposeVariables());

  it.each(Object.entries(exportable))("%s: HF PEFT's semantics on the exported files give our logits, and import round-trips", async (_, m) => {
    const { backbone, program, adapter, merged } = await adapted(m, 4);
    const hf = toHfPeft(adapter, merged, "vit_base_patch16_224");
    const x = imagesTensor();
    const ours = readHost(() => program.forward(x).logits);
    const theirs = vitForward64({ ...backbone.config }, hfModelWeights(hf, base()), Float64Array.from(images), 3).logits;
    expectClose(theirs, ours, { atol: 1e-4, rtol: 1e-4 }, "HF PEFT semantics vs ours");
    const file = readSafetensors(writeSafetensors(hf.tensors));
    const imported = fromHfPeft(hf.config, file, base());
    const again = compile(imported.method, imported.backbone, { seed: 0 });
    again.setValues(imported.values);
    expectClose(
      readHost(() => again.forward(x).logits),
      ours,
      { atol: 1e-5, rtol: 1e-5 },
      "imported",
    );
    tf.dispose(x);
    program.dispose();
    again.dispose();
  });

  it("the q/v LoRA becomes one LoRA on qkv of rank 2r whose B is zero on the k rows, with α/r kept", async () => {
    const { adapter, merged } = await adapted(combine(lora({ rank: 2, alpha: 4 }), linearProbe()), 1);
    const hf = toHfPeft(adapter, merged, "vit_base_patch16_224");
    expect(hf.config).toMatchObject({
      peft_type: "LORA",
      r: 4,
      lora_alpha: 8,
      target_modules: ["blocks.0.attn.qkv", "blocks.1.attn.qkv"],
      modules_to_save: ["head"],
    });
    const b = hf.tensors.find((t) => t.name === "base_model.model.blocks.0.attn.qkv.lora_B.weight")!;
    expect(b.shape).toEqual([96, 4]);
    expect(Array.from(b.data.subarray(32 * 4, 64 * 4)).every((v) => v === 0)).toBe(true);
    expect(Array.from(b.data.subarray(0, 32 * 4)).some((v) => v !== 0)).toBe(true);
  });

  it.each([
    ["RLRR", combine(method({ targets: [target(role("qkv"), rescale())] }), linearProbe()), /targets\[0\].*RLRR/],
    ["FourierFT on a qkv third", fourierFT({ coefficients: 4, alpha: 2, positions: torchPositions }), /a third of the fused qkv/],
    ["FourierFT at our own positions", method({ targets: [target(role("fc1"), spectral({ coefficients: 4, scale: 2 }))] }), /TorchRandperm/],
    [
      "a trained class token",
      method({ targets: [target(role("cls"), full), target(role("fc1"), lowRank({ rank: 1 }))] }),
      /cls_token is a parameter of the VisionTransformer itself/,
    ],
    [
      "LoRA and FourierFT together",
      method({ targets: [target(role("fc1"), lowRank({ rank: 1 })), target(role("fc2"), spectral({ coefficients: 3, scale: 1, positions: torchPositions }))] }),
      /one tuner type/,
    ],
    [
      "LoRA and full on the head",
      combine(method({ targets: [target(role("head"), lowRank({ rank: 1 }))] }), linearProbe()),
      /head is both adapted and fully trained/,
    ],
  ] as const)("%s is refused, naming the target and the reason", async (_, m, why) => {
    const { adapter, merged, program } = await adapted(m, 2);
    expect(() => toHfPeft(adapter, merged, "vit_base_patch16_224")).toThrow(why);
    program.dispose();
  });
});

describe("an HF PEFT directory is checked as strictly as our own files", () => {
  beforeAll(() => loadBackend("cpu"));

  const exported = async () => {
    const { adapter, merged, program } = await adapted(combine(lora({ rank: 2, alpha: 4 }), linearProbe()), 3);
    program.dispose();
    return toHfPeft(adapter, merged, "vit_base_patch16_224");
  };
  const importing =
    (hf: HfPeftAdapter, config: Record<string, unknown> = {}, tensors = hf.tensors) =>
    () =>
      fromHfPeft({ ...hf.config, ...config }, readSafetensors(writeSafetensors(tensors)), base());
  const qkvB = "base_model.model.blocks.0.attn.qkv.lora_B.weight";

  it("every field LoraConfig writes at its default is read (metadata, initialisation and off switches pass)", async () => {
    const hf = await exported();
    // The fields of HF PEFT's LoraConfig.to_dict() at their defaults (peft/tuners/lora/config.py, peft/config.py).
    const defaults = {
      auto_mapping: null,
      revision: null,
      peft_version: "0.17.1",
      exclude_modules: null,
      init_lora_weights: true,
      layers_to_transform: null,
      layers_pattern: null,
      megatron_config: null,
      megatron_core: "megatron.core",
      trainable_token_indices: null,
      loftq_config: {},
      eva_config: null,
      corda_config: null,
      layer_replication: null,
      runtime_config: { ephemeral_gpu_offload: false },
      lora_bias: false,
      target_parameters: null,
      use_qalora: false,
      qalora_group_size: 16,
      alora_invocation_tokens: null,
      arrow_config: null,
      ensure_weight_tying: false,
    };
    expect(importing(hf, defaults)().method.targets.length).toBe(hf.tensors.length / 2 + 1);
  });

  it.each([
    ["lora_alpha as a string", { lora_alpha: "four" }, /adapter_config\.json: expected number > 0 at lora_alpha, got "four"/],
    ["r as a float", { r: 2.5 }, /expected integer in \[1, 65,536\] at r, got 2\.5/],
    ["use_rslora as a string", { use_rslora: "yes" }, /expected boolean at use_rslora, got "yes"/],
    ["a rank_pattern value as a string", { rank_pattern: { qkv: "4" } }, /at rank_pattern\.qkv, got "4"/],
    ["modules_to_save as a string", { modules_to_save: "head" }, /at modules_to_save, got "head"/],
    ["no target_modules", { target_modules: undefined }, /at target_modules, got nothing/],
    [
      "target_modules naming nothing besides real modules",
      { target_modules: ["blocks.0.attn.qkv", "blocks.1.attn.qkv", "q_proj"] },
      /"q_proj" names no module/,
    ],
    ["target_modules missing a module the file holds", { target_modules: ["blocks.0.attn.qkv"] }, /blocks\.1\.attn\.qkv: is not a module target_modules/],
    [
      "target_modules selecting a module the file lacks",
      { target_modules: ["qkv", "fc1"] },
      /blocks\.0\.mlp\.fc1: is selected by target_modules but .* holds no lora_A/,
    ],
    ["target_modules selecting a LayerNorm", { target_modules: "blocks\\.\\d\\.(attn\\.qkv|norm1)" }, /selects blocks\.0\.norm1, which is not a linear/],
    ["a target_modules expression that is not one", { target_modules: "(qkv" }, /target_modules: "\(qkv" is not a regular expression/],
    ["a rank_pattern key that is not an expression", { rank_pattern: { "[": 2 } }, /rank_pattern key: .* is not a regular expression/],
    [
      "a target_modules expression with a backreference (no linear-time match)",
      { target_modules: "(blocks)\\.\\d\\.attn\\.qkv|\\1" },
      /target_modules: .* uses what cannot run in linear time/,
    ],
    ["modules_to_save naming nothing", { modules_to_save: ["head", "classifier"] }, /modules_to_save: "classifier" names no module/],
    ["layers_to_transform", { layers_to_transform: [0] }, /layers_to_transform: \[0\] is not supported: .* must be null, false or empty/],
    ["an unknown field that is not off", { lora_new_trick: 2 }, /lora_new_trick: 2 is not supported/],
    ["DoRA", { use_dora: true }, /expected false \(DoRA is not supported\) at use_dora/],
  ] as const)("%s is refused, naming the field", async (_, config, why) => {
    const hf = await exported();
    expect(importing(hf, config)).toThrow(why);
  });

  it("a target_modules expression that backtracks exponentially is matched in linear time", async () => {
    const hf = await exported();
    const cpu = (f: () => unknown) => {
      const before = process.cpuUsage();
      f();
      const used = process.cpuUsage(before);
      return used.user + used.system;
    };
    const plain = "blocks\\.\\d\\.attn\\.qkv";
    const ordinary = Math.min(...[1, 2, 3].map(() => cpu(importing(hf, { target_modules: plain }))));
    // Four ways to take each character after "blocks": 4^n steps for a backtracking engine on every such module name.
    const evil = cpu(importing(hf, { target_modules: `blocks((.|.)|(.|.))*Z|${plain}` }));
    expect(evil).toBeLessThan(3 * ordinary + 20_000);
  });

  it("lora_B declared with another shape of the same size is refused, naming the tensor and both shapes", async () => {
    const hf = await exported();
    const tensors = hf.tensors.map((t) => (t.name === qkvB ? { ...t, shape: [...t.shape].reverse() } : t));
    expect(tensors.find((t) => t.name === qkvB)!.shape).toEqual([4, 96]);
    expect(importing(hf, {}, tensors)).toThrow(`${qkvB}: has shape [4,96], expected [96,4]`);
  });

  it("a rank the config does not state is refused through lora_A's shape", async () => {
    const hf = await exported();
    expect(importing(hf, { r: 3 })).toThrow("base_model.model.blocks.0.attn.qkv.lora_A.weight: has shape [4,32], expected [3,32]");
  });

  it.each([NaN, Infinity])("a %s in lora_B or in the saved head is refused, naming the tensor and the count", async (bad) => {
    const hf = await exported();
    const poisoned = (name: string) =>
      hf.tensors.map((t) => (t.name === name ? { ...t, data: Float32Array.from(t.data, (v, i) => (i % 7 === 0 ? bad : v)) } : t));
    expect(importing(hf, {}, poisoned(qkvB))).toThrow(`${qkvB}: holds ${Math.ceil((96 * 4) / 7)} non-finite value(s)`);
    expect(importing(hf, {}, poisoned("base_model.model.head.weight"))).toThrow(/head\.weight: holds \d+ non-finite value/);
  });
});
