import { setFlagsFromString } from "node:v8";
import * as t from "io-ts";
import { isLeft } from "fp-ts/lib/Either.js";
import type { Method, Target } from "../../dsl/method.js";
import { glob } from "../../dsl/selector.js";
import { full, lowRank, spectral } from "../../dsl/transform.js";
import { withZeroHead, type Backbone } from "../../models/backbone.js";
import { toFloat32, type SafetensorsFile } from "../../models/safetensors.js";
import { vitParams, vitSites } from "../../models/vitParams.js";
import { decodeWith, finite, intIn, nullable, positive, withDefault } from "../../util/codecKit.js";
import { showValue } from "../../util/decodeError.js";
import { nonFiniteCount } from "../../util/nonFinite.js";
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
const configFile = "adapter_config.json";

const fail = (field: string, why: string): never => {
  throw new MethodError(field, why);
};

/** A field this importer supports at one value only (HF PEFT's default); the name says why. */
const only = <A extends string | boolean>(value: A, why: string): t.Type<A> =>
  new t.Type<A>(
    `${JSON.stringify(value)} (${why})`,
    (u): u is A => u === value,
    (u, c) => (u === value ? t.success(value) : t.failure(u, c)),
    t.identity,
  );

const moduleNames = new t.Type<readonly string[] | string>(
  "a list of module names, or a regular expression matched against whole module names",
  (u): u is readonly string[] | string => typeof u === "string" || (Array.isArray(u) && u.every((s) => typeof s === "string" && s !== "")),
  (u, c) => (typeof u === "string" || (Array.isArray(u) && u.every((s) => typeof s === "string" && s !== "")) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** HF PEFT's `{ "regular expression": value }` overrides per module; null reads as none. */
const patterns = <A>(value: t.Type<A>): t.Type<Readonly<Record<string, A>>> => {
  const record = t.record(t.string, value);
  return new t.Type<Readonly<Record<string, A>>>(
    `an object of ${value.name} by module pattern`,
    (u): u is Readonly<Record<string, A>> => record.is(u),
    (u, c) => (u === null || u === undefined ? t.success({}) : record.validate(u, c)),
    t.identity,
  );
};

const rank = intIn(1, 65536);
const frequencies = intIn(1, 1 << 28);

/**
 * adapter_config.json's fields as HF PEFT's LoraConfig and FourierFTConfig declare them
 * (peft/tuners/{lora,fourierft}/config.py), with their defaults. `target_modules` is required:
 * without it HF PEFT picks modules by model type, which it does not know for timm.
 */
const shared = {
  target_modules: moduleNames,
  modules_to_save: withDefault(nullable(t.array(t.string)), null),
  fan_in_fan_out: withDefault(only(false, "true is for GPT-2's Conv1D; timm's linears are nn.Linear"), false),
  bias: withDefault(only("none", "trained biases are not supported"), "none"),
  // Read by nothing here, but typed as HF PEFT types them.
  base_model_name_or_path: withDefault(nullable(t.string), null),
  inference_mode: withDefault(t.boolean, false),
};
const configs = {
  LORA: t.type({
    peft_type: t.literal("LORA"),
    ...shared,
    r: withDefault(rank, 8),
    lora_alpha: withDefault(positive, 8),
    use_rslora: withDefault(t.boolean, false),
    rank_pattern: patterns(rank),
    alpha_pattern: patterns(positive),
    use_dora: withDefault(only(false, "DoRA is not supported"), false),
    lora_dropout: withDefault(finite, 0),
  }),
  FOURIERFT: t.type({
    peft_type: t.literal("FOURIERFT"),
    ...shared,
    n_frequency: withDefault(frequencies, 1000),
    scaling: withDefault(finite, 150),
    random_loc_seed: withDefault(intIn(0, Number.MAX_SAFE_INTEGER), 777),
    n_frequency_pattern: patterns(frequencies),
  }),
};
type LoraConfig = t.TypeOf<(typeof configs)["LORA"]>;
type FourierConfig = t.TypeOf<(typeof configs)["FOURIERFT"]>;

/** Fields that do not change what a loaded adapter computes: metadata, training and initialisation settings. */
const noEffect = new Set([
  "task_type",
  "auto_mapping",
  "revision",
  "peft_version",
  "init_lora_weights",
  "init_weights",
  "loftq_config",
  "eva_config",
  "corda_config",
  "lora_ga_config",
  "runtime_config",
  "megatron_config",
  "megatron_core",
  "qalora_group_size",
]);
const isOff = (u: unknown) => u === null || u === false || (typeof u === "object" && Object.keys(u as object).length === 0);

/**
 * The config decoded with readable errors. Any other field must hold HF PEFT's "off" (null, false,
 * empty): it may be one that changes what the adapter computes (layers_to_transform,
 * exclude_modules, lora_bias, …) or one of a newer PEFT, which HF PEFT itself would drop.
 */
const decodeConfig = (raw: unknown): LoraConfig | FourierConfig => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail(configFile, `expected an object, got ${showValue(raw)}`);
  const type = (raw as { peft_type?: unknown }).peft_type;
  if (type !== "LORA" && type !== "FOURIERFT") return fail(`${configFile}: peft_type`, `${showValue(type)} is not supported (expected "LORA" or "FOURIERFT")`);
  const codec = configs[type];
  const decoded = decodeWith(codec as t.Type<LoraConfig | FourierConfig>, raw);
  if (isLeft(decoded)) return fail(configFile, decoded.left.join("; "));
  for (const [k, v] of Object.entries(raw)) {
    if (k in codec.props || noEffect.has(k) || isOff(v)) continue;
    fail(
      `${configFile}: ${k}`,
      `${showValue(v)} is not supported: a ${type} adapter is read from ${Object.keys(codec.props).join(", ")}, and any other field must be null, false or empty (HF PEFT's defaults), since it may change what the adapter computes`,
    );
  }
  return decoded.right;
};

// A config's expressions are a stranger's: V8's linear-time engine (the `l` flag) runs them, so
// no pattern can backtrack for hours on a module name; one it cannot run so (a backreference, a
// lookaround) is refused.
setFlagsFromString("--enable-experimental-regexp-engine");

/** The config's regular expression `source` inside `wrap`, run in linear time, or an error naming the field and the expression. */
const pattern = (source: string, wrap: (s: string) => string, field: string): RegExp => {
  try {
    return new RegExp(wrap(source), "l");
  } catch (e) {
    const why = /linear time/.test((e as Error).message)
      ? "uses what cannot run in linear time (a backreference or lookaround)"
      : "is not a regular expression";
    return fail(`${configFile}: ${field}`, `${JSON.stringify(source)} ${why}`);
  }
};

/** HF PEFT's pattern lookup (`get_pattern_key`): the first key that matches the module name at a dotted suffix. */
const patterned = <A>(byPattern: Readonly<Record<string, A>>, field: string, module: string, fallback: A): A =>
  Object.entries(byPattern).find(([k]) => pattern(k, (s) => `^(.*\\.)?(${s})$`, `${field} key`).test(module))?.[1] ?? fallback;

/** HF PEFT's `check_target_module_exists`: a regular expression matches whole names; a list entry matches a name or its dotted suffix. */
const targetedBy = (targets: readonly string[] | string, name: string): boolean =>
  typeof targets === "string" ? pattern(targets, (s) => `^(?:${s})$`, "target_modules").test(name) : targets.some((m) => name === m || name.endsWith(`.${m}`));

/** Every module of the ViT that holds parameters: each parameter's dotted prefixes. */
const modulesOf = (params: readonly { readonly name: string }[]): string[] => [
  ...new Set(
    params.flatMap((p) =>
      p.name
        .split(".")
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join(".")),
    ),
  ),
];

/**
 * A Hugging Face PEFT adapter directory's config and tensors (LoRA or FourierFT, with
 * modules_to_save) for a timm ViT, as our method and adapter values: LoRA on a module becomes
 * `lowRank` on its weight (α/r, or α/√r under rsLoRA), FourierFT a spectrum at torch's randperm
 * positions from `random_loc_seed`, and each saved module `full` targets holding its values.
 * Checked as strictly as our own files: every field's type, `target_modules` matching exactly the
 * modules the file holds tensors for, every tensor's shape, and every value finite.
 */
export const fromHfPeft = (raw: unknown, file: SafetensorsFile, base: Backbone): ImportedAdapter => {
  const config = decodeConfig(raw);
  const baseParams = vitParams(base.config);
  const modules = modulesOf(baseParams);
  // HF PEFT's modules_to_save: every module whose name ends with an entry (the outermost, when nested).
  const entries = config.modules_to_save ?? [];
  for (const m of entries)
    if (!modules.some((name) => name.endsWith(m))) fail(`${configFile}: modules_to_save`, `${JSON.stringify(m)} names no module of this ViT`);
  const matched = modules.filter((name) => entries.some((m) => name.endsWith(m)));
  const saved = matched.filter((name) => !matched.some((outer) => name.startsWith(`${outer}.`)));
  const inSaved = (name: string) => saved.some((s) => name === s || name.startsWith(`${s}.`));
  const tensor = (k: string, shape: readonly number[]) => {
    const raw = file.tensors.get(k);
    if (raw === undefined) return fail(k, `missing from adapter_model.safetensors`);
    if (raw.shape.length !== shape.length || raw.shape.some((d, i) => d !== shape[i]))
      fail(k, `has shape ${JSON.stringify(raw.shape)}, expected ${JSON.stringify(shape)}`);
    const data = toFloat32(raw, k);
    const bad = nonFiniteCount(data);
    if (bad > 0) fail(k, `holds ${bad} non-finite value(s) (NaN or ±Inf)`);
    return data;
  };
  // The saved head sets the task's classes; the base's head stays otherwise.
  const headWeight = inSaved("head") ? file.tensors.get(`${prefix}head.weight`) : undefined;
  if (inSaved("head") && (headWeight?.shape.length !== 2 || headWeight.shape[0]! < 1 || headWeight.shape[1] !== base.config.width))
    fail(
      `${prefix}head.weight`,
      `expected a saved head of shape [classes, ${base.config.width}], got ${headWeight ? JSON.stringify(headWeight.shape) : "none"}`,
    );
  const backbone = headWeight ? withZeroHead(base, headWeight.shape[0]!) : base;
  const params = vitParams(backbone.config);
  const sites = new Map(vitSites(backbone.config).map((s) => [s.name, s]));
  const lora = config.peft_type === "LORA";
  const suffixes = lora ? ["lora_A.weight", "lora_B.weight"] : ["fourierft_spectrum"];
  const savedParams = new Set(params.filter((p) => inSaved(p.name)).map((p) => p.name));
  const held = new Set<string>();
  for (const k of file.tensors.keys()) {
    if (!k.startsWith(prefix)) fail(k, `expected every key to start with "${prefix}"`);
    const rest = k.slice(prefix.length);
    const suffix = suffixes.find((s) => rest.endsWith(`.${s}`));
    if (suffix !== undefined) held.add(rest.slice(0, -suffix.length - 1));
    else if (!savedParams.has(rest)) fail(k, `is neither a ${lora ? "LoRA" : "FourierFT"} tensor nor a parameter of a module in modules_to_save`);
  }
  // target_modules must name modules of this ViT, and exactly the ones the file holds tensors for.
  if (typeof config.target_modules !== "string")
    for (const m of config.target_modules)
      if (!modules.some((name) => targetedBy([m], name))) fail(`${configFile}: target_modules`, `${JSON.stringify(m)} names no module of this ViT`);
  const targeted = modules.filter((name) => targetedBy(config.target_modules, name) && !inSaved(name));
  if (targeted.length === 0) fail(`${configFile}: target_modules`, `${showValue(config.target_modules)} matches no module of this ViT outside modules_to_save`);
  for (const module of held)
    if (!targeted.includes(module)) fail(`${prefix}${module}`, `is not a module target_modules ${showValue(config.target_modules)} selects`);
  const targets: Target[] = [];
  const values = new Map<string, AdapterValue>();
  const add = (site: string, transform: Target["transform"], tensors: Record<string, AdapterValue>) => {
    const index = targets.length;
    targets.push({ select: glob(site), transform });
    for (const [path, v] of Object.entries(tensors)) values.set(`${site}/${index}/${path}`, v);
  };
  for (const module of targeted) {
    const site = sites.get(`${module}.weight`);
    const weight = params.find((p) => p.name === `${module}.weight`)?.shape ?? [];
    const conv = weight.length === 4;
    if (!site?.matrix || (conv && !lora))
      fail(
        `${configFile}: target_modules`,
        `selects ${module}, which is not a linear${lora ? " (or the patch embedding)" : ""} of this ${backbone.config.depth}-block ViT`,
      );
    if (!held.has(module)) fail(`${prefix}${module}`, `is selected by target_modules but adapter_model.safetensors holds no ${suffixes.join(" / ")} for it`);
    const [dout, din] = site!.shape as [number, number];
    if (config.peft_type === "LORA") {
      const r = patterned(config.rank_pattern, "rank_pattern", module, config.r);
      // HF PEFT's shapes: nn.Linear A [r, in], B [out, r]; the patch embedding's Conv2d A [r, C, P, P], B [out, r, 1, 1].
      const a = tensor(`${prefix}${module}.lora_A.weight`, [r, ...weight.slice(1)]);
      const b = tensor(`${prefix}${module}.lora_B.weight`, conv ? [dout, r, 1, 1] : [dout, r]);
      const alpha = patterned(config.alpha_pattern, "alpha_pattern", module, config.lora_alpha);
      // HF PEFT's scaling: α/r, or α/√r with rsLoRA.
      const transform = config.use_rslora ? lowRank({ rank: r, alpha: alpha / Math.sqrt(r), scaling: "alpha" }) : lowRank({ rank: r, alpha });
      add(site!.name, transform, { lora_A: a, lora_B: b });
    } else {
      const n = patterned(config.n_frequency_pattern, "n_frequency_pattern", module, config.n_frequency);
      if (n > dout * din) fail(`${configFile}: n_frequency`, `${n} frequencies exceed the ${dout * din} entries of ${module}`);
      const spectrum = tensor(`${prefix}${module}.fourierft_spectrum`, [n]);
      const seed = config.random_loc_seed;
      add(site!.name, spectral({ coefficients: n, scale: config.scaling, positions: { _tag: "TorchRandperm", seed }, init: "zeros" }), {
        spectrum,
        positions: torchRandperm(dout * din, seed, n).slice(),
      });
    }
  }
  for (const p of params.filter((x) => savedParams.has(x.name))) add(p.name, full, { value: tensor(`${prefix}${p.name}`, p.shape) });
  return { method: { targets, losses: [], rules: [] }, values, backbone, head: headWeight ? "reset" : "keep" };
};
