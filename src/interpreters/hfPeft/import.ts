import type { Method, Target } from "../../dsl/method.js";
import { glob } from "../../dsl/selector.js";
import { full, lowRank, spectral } from "../../dsl/transform.js";
import { withZeroHead, type Backbone } from "../../models/backbone.js";
import { toFloat32, type SafetensorsFile } from "../../models/safetensors.js";
import { vitParams, vitSites } from "../../models/vitParams.js";
import { torchRandperm } from "../../util/torchRandperm.js";
import type { AdapterValue } from "../adapterParams.js";
import { MethodError } from "../methodError.js";

/** An HF PEFT adapter as our method: its targets, their values, and the backbone it applies to (a saved head replaces the base's). */
export interface ImportedAdapter {
  readonly method: Method;
  readonly values: Map<string, AdapterValue>;
  readonly backbone: Backbone;
  readonly head: "reset" | "keep";
}

const prefix = "base_model.model.";

/** HF PEFT's pattern lookup (`get_pattern_key`): the first key that matches the module name at a dotted suffix. */
const patterned = <A>(pattern: unknown, module: string, fallback: A): A => {
  const entries = Object.entries((pattern ?? {}) as Record<string, A>);
  return entries.find(([k]) => new RegExp(`^(.*\\.)?(${k})$`).test(module))?.[1] ?? fallback;
};

const fail = (field: string, why: string): never => {
  throw new MethodError(field, why);
};

/**
 * A Hugging Face PEFT adapter directory's config and tensors (LoRA or FourierFT, with
 * modules_to_save) for a timm ViT, as our method and adapter values: LoRA on a module becomes
 * `lowRank` on its weight (α/r, or α/√r under rsLoRA), FourierFT a spectrum at torch's randperm
 * positions from `random_loc_seed`, and each saved module `full` targets holding its values.
 */
export const fromHfPeft = (config: Record<string, unknown>, file: SafetensorsFile, base: Backbone): ImportedAdapter => {
  const type = config.peft_type;
  if (type !== "LORA" && type !== "FOURIERFT")
    fail("adapter_config.json: peft_type", `${JSON.stringify(type)} is not supported (expected "LORA" or "FOURIERFT")`);
  if ((config.bias ?? "none") !== "none")
    fail("adapter_config.json: bias", `${JSON.stringify(config.bias)}: trained biases are not supported (expected "none")`);
  if (config.fan_in_fan_out === true) fail("adapter_config.json: fan_in_fan_out", "true is for GPT-2's Conv1D; timm's linears are nn.Linear");
  if (config.use_dora === true) fail("adapter_config.json: use_dora", "DoRA is not supported");
  const saved = new Set((config.modules_to_save as string[] | null | undefined) ?? []);
  const tensor = (k: string) => {
    const raw = file.tensors.get(k)!;
    return { shape: raw.shape, data: toFloat32(raw, k) };
  };
  // The saved head sets the task's classes; the base's head stays otherwise.
  const headWeight = saved.has("head") ? file.tensors.get(`${prefix}head.weight`) : undefined;
  const backbone = headWeight ? withZeroHead(base, headWeight.shape[0]!) : base;
  const sites = new Map(vitSites(backbone.config).map((s) => [s.name, s]));
  const params = new Map(vitParams(backbone.config).map((p) => [p.name, p]));
  const targets: Target[] = [];
  const values = new Map<string, AdapterValue>();
  const add = (site: string, transform: Target["transform"], tensors: Record<string, AdapterValue>) => {
    const index = targets.length;
    targets.push({ select: glob(site), transform });
    for (const [path, v] of Object.entries(tensors)) values.set(`${site}/${index}/${path}`, v);
  };
  const modules = new Map<string, string[]>();
  for (const k of file.tensors.keys()) {
    if (!k.startsWith(prefix)) fail(k, `expected every key to start with "${prefix}"`);
    const rest = k.slice(prefix.length);
    const m = /^(.*)\.(lora_A\.weight|lora_B\.weight|fourierft_spectrum)$/.exec(rest);
    if (m) modules.set(m[1]!, [...(modules.get(m[1]!) ?? []), m[2]!]);
    else if (![...saved].some((s) => rest.startsWith(`${s}.`) && params.has(rest)))
      fail(k, "is neither a LoRA / FourierFT tensor nor a parameter of a module in modules_to_save");
  }
  for (const [module, kinds] of modules) {
    const site = sites.get(`${module}.weight`);
    if (!site?.matrix) fail(`${prefix}${module}`, `is not a linear (or the patch embedding) of this ${backbone.config.depth}-block ViT`);
    const [dout, din] = site!.shape as [number, number];
    if (type === "LORA") {
      if (!kinds.includes("lora_A.weight") || !kinds.includes("lora_B.weight")) fail(`${prefix}${module}`, "needs both lora_A.weight and lora_B.weight");
      const a = tensor(`${prefix}${module}.lora_A.weight`);
      const b = tensor(`${prefix}${module}.lora_B.weight`);
      const r = a.shape[0]!;
      if (a.data.length !== r * din || b.data.length !== dout * r)
        fail(
          `${prefix}${module}`,
          `lora_A ${JSON.stringify(a.shape)} and lora_B ${JSON.stringify(b.shape)} do not fit a [${dout}, ${din}] weight at rank ${r}`,
        );
      const alpha = patterned(config.alpha_pattern, module, config.lora_alpha as number);
      if (patterned(config.rank_pattern, module, config.r as number) !== r)
        fail(`adapter_config.json: r`, `${module}'s lora_A has rank ${r}, the config says ${patterned(config.rank_pattern, module, config.r)}`);
      // HF PEFT's scaling: α/r, or α/√r with rsLoRA.
      const transform = config.use_rslora === true ? lowRank({ rank: r, alpha: alpha / Math.sqrt(r), scaling: "alpha" }) : lowRank({ rank: r, alpha });
      add(site!.name, transform, { lora_A: a.data, lora_B: b.data });
    } else {
      const c = tensor(`${prefix}${module}.fourierft_spectrum`);
      const n = patterned(config.n_frequency_pattern, module, config.n_frequency as number);
      if (c.data.length !== n) fail(`${prefix}${module}.fourierft_spectrum`, `has ${c.data.length} coefficients, the config says ${n}`);
      const seed = (config.random_loc_seed as number | undefined) ?? 777;
      add(site!.name, spectral({ coefficients: n, scale: config.scaling as number, positions: { _tag: "TorchRandperm", seed }, init: "zeros" }), {
        spectrum: c.data,
        positions: torchRandperm(dout * din, seed, n).slice(),
      });
    }
  }
  for (const m of saved) {
    for (const p of vitParams(backbone.config).filter((x) => x.name.startsWith(`${m}.`) && !x.name.slice(m.length + 1).includes("."))) {
      const k = `${prefix}${p.name}`;
      if (!file.tensors.has(k)) fail(k, `missing: modules_to_save lists ${m}`);
      add(p.name, full, { value: tensor(k).data });
    }
  }
  return { method: { targets, losses: [], rules: [] }, values, backbone, head: headWeight ? "reset" : "keep" };
};
