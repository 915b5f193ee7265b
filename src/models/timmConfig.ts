import type { HostTensor, Weights } from "./backbone.js";
import { SafetensorsError } from "./safetensors.js";
import { timmArchitectures, timmPretrainedTags, timmUnsupported, type PretrainedCfg } from "./timmArchitectures.js";
import { decodeVitConfig, prefixTokens, usesFcNorm, type Activation, type VitConfig } from "./vitConfig.js";
import { vitParams } from "./vitParams.js";

export type { PretrainedCfg } from "./timmArchitectures.js";

const fail = (msg: string): never => {
  throw new SafetensorsError(msg);
};

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The architecture half of a timm model name (`vit_base_patch16_224.augreg_in21k` → `vit_base_patch16_224`). */
export const baseName = (name: string): string => name.split(".")[0]!;

/** The config timm builds for an architecture name at its defaults; an error names what is not supported. */
export const architectureConfig = (name: string, field: string): VitConfig => {
  const arch = baseName(name);
  const config = timmArchitectures[arch];
  if (config) return config;
  if (timmUnsupported[arch]) fail(`${field}: ${arch} is a VisionTransformer variant peft-dsl does not compute (${timmUnsupported[arch]})`);
  const near = Object.keys(timmArchitectures)
    .filter((n) => n.startsWith(arch.split("_").slice(0, 2).join("_")))
    .slice(0, 8);
  return fail(`${field}: unknown timm architecture ${JSON.stringify(arch)}${near.length > 0 ? ` (similar: ${near.join(", ")})` : ""}`);
};

/** The pretrained_cfg of a tagged name, if timm knows the tag. */
export const pretrainedCfgOf = (name: string): PretrainedCfg | undefined => timmPretrainedTags[name];

const activations: Readonly<Record<string, Activation>> = { gelu: "erf", gelu_tanh: "tanh", quick_gelu: "quick" };

/** model_args that only steer training or initialisation in timm: accepted, no effect on the function. */
const trainingOnly = new Set([
  "drop_rate",
  "pos_drop_rate",
  "patch_drop_rate",
  "proj_drop_rate",
  "attn_drop_rate",
  "drop_path_rate",
  "weight_init",
  "fix_init",
]);

/** model_args timm accepts whose value must be its default here (other values change the structure). */
const fixedDefaults: Readonly<Record<string, unknown>> = {
  qk_norm: false,
  scale_attn_norm: false,
  scale_mlp_norm: false,
  proj_bias: true,
  pos_embed: "learn",
  final_norm: true,
  pool_include_prefix: false,
  dynamic_img_size: false,
  dynamic_img_pad: false,
};

type Override = (c: VitConfig, v: unknown, field: string) => VitConfig;

const intArg = (v: unknown, field: string): number =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : fail(`${field}: expected a non-negative integer, got ${JSON.stringify(v)}`);
const boolArg = (v: unknown, field: string): boolean => (typeof v === "boolean" ? v : fail(`${field}: expected true or false, got ${JSON.stringify(v)}`));
const squareArg = (v: unknown, field: string): number => {
  if (Array.isArray(v) && v.length === 2 && v[0] === v[1]) return intArg(v[0], field);
  if (Array.isArray(v)) return fail(`${field}: only square sizes are supported, got ${JSON.stringify(v)}`);
  return intArg(v, field);
};

const poolArg = (v: unknown, field: string): "token" | "avg" =>
  v === "token" || v === "avg" ? v : fail(`${field}: global_pool ${JSON.stringify(v)} is not supported (expected "token" or "avg")`);

/** timm's VisionTransformer keyword arguments, as changes to our config. */
const overrides: Readonly<Record<string, Override>> = {
  img_size: (c, v, f) => ({ ...c, image: squareArg(v, f) }),
  patch_size: (c, v, f) => ({ ...c, patch: squareArg(v, f) }),
  in_chans: (c, v, f) => ({ ...c, channels: intArg(v, f) }),
  num_classes: (c, v, f) => ({ ...c, classes: intArg(v, f) }),
  embed_dim: (c, v, f) => ({ ...c, width: intArg(v, f) }),
  depth: (c, v, f) => ({ ...c, depth: intArg(v, f) }),
  num_heads: (c, v, f) => ({ ...c, heads: intArg(v, f) }),
  mlp_ratio: (c, v, f) => ({ ...c, mlpRatio: typeof v === "number" && v > 0 ? v : fail(`${f}: expected a number > 0, got ${JSON.stringify(v)}`) }),
  qkv_bias: (c, v, f) => ({ ...c, qkvBias: boolArg(v, f) }),
  class_token: (c, v, f) => ({ ...c, classToken: boolArg(v, f) }),
  reg_tokens: (c, v, f) => ({ ...c, regTokens: intArg(v, f) }),
  no_embed_class: (c, v, f) => ({ ...c, noEmbedClass: boolArg(v, f) }),
  pre_norm: (c, v, f) => ({ ...c, preNorm: boolArg(v, f) }),
  init_values: (c, v, f) => ({
    ...c,
    layerScale: v === null ? false : typeof v === "number" ? true : fail(`${f}: expected a number or null, got ${JSON.stringify(v)}`),
  }),
  global_pool: (c, v, f) => ({ ...c, pool: poolArg(v, f) }),
  fc_norm: (c, v, f) => (v === null ? (({ fcNorm: _, ...rest }) => rest)(c) : { ...c, fcNorm: boolArg(v, f) }),
  act_layer: (c, v, f) => ({
    ...c,
    gelu:
      (typeof v === "string" ? activations[v] : undefined) ??
      fail(
        `${f}: activation ${JSON.stringify(v)} is not supported (expected ${Object.keys(activations)
          .map((k) => `"${k}"`)
          .join(", ")})`,
      ),
  }),
};

const applyArgs = (config: VitConfig, args: Readonly<Record<string, unknown>>, at: string): VitConfig =>
  Object.entries(args).reduce((c, [k, v]) => {
    const field = `${at}.${k}`;
    if (trainingOnly.has(k)) return c;
    if (k in fixedDefaults)
      return v === fixedDefaults[k]
        ? c
        : fail(
            `${field}: ${JSON.stringify(v)} changes the VisionTransformer's structure in a way peft-dsl does not compute (only ${JSON.stringify(fixedDefaults[k])})`,
          );
    const apply = overrides[k];
    return apply ? apply(c, v, field) : fail(`${field} is not understood (a timm VisionTransformer argument peft-dsl does not know)`);
  }, config);

const checked = (config: VitConfig, source: string): VitConfig => {
  const r = decodeVitConfig(config);
  return r._tag === "Right" ? r.right : fail(`${source}: ${r.left.join("; ")}`);
};

/** Fields of a timm hub `config.json`; anything else is an error naming it. */
const hubFields = new Set(["architecture", "num_classes", "num_features", "global_pool", "model_args", "pretrained_cfg", "label_names", "label_descriptions"]);

const numbers = (v: unknown, field: string): number[] =>
  Array.isArray(v) && v.every((x) => typeof x === "number") ? v : fail(`${field}: expected a list of numbers, got ${JSON.stringify(v)}`);

/** A timm hub `config.json` (architecture, num_classes, global_pool, model_args, pretrained_cfg) as our config and its preprocessing. */
export const hubConfig = (
  json: unknown,
  source: string,
): { readonly config: VitConfig; readonly architecture: string; readonly pretrainedCfg?: PretrainedCfg } => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail(`${source}: expected a JSON object`);
  const o = json as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !hubFields.has(k));
  if (unknown !== undefined) fail(`${source}: field "${unknown}" is not understood (expected ${[...hubFields].join(", ")})`);
  if (typeof o.architecture !== "string") fail(`${source}: "architecture" must be a timm model name`);
  const architecture = o.architecture as string;
  let config = architectureConfig(architecture, `${source}: architecture`);
  const args = o.model_args ?? {};
  if (typeof args !== "object" || args === null || Array.isArray(args)) fail(`${source}: "model_args" must be an object`);
  config = applyArgs(config, args as Record<string, unknown>, `${source}: model_args`);
  config = applyArgs(config, Object.fromEntries((["num_classes", "global_pool"] as const).filter((k) => o[k] !== undefined).map((k) => [k, o[k]])), source);
  if (o.num_features !== undefined && o.num_features !== config.width)
    fail(`${source}: num_features ${JSON.stringify(o.num_features)} differs from the architecture's width ${config.width}`);
  if (o.pretrained_cfg === undefined) return { config: checked(config, source), architecture };
  return { config: checked(config, source), architecture, pretrainedCfg: readPretrainedCfg(o.pretrained_cfg, config, `${source}: pretrained_cfg`) };
};

/** A pretrained_cfg object in timm's field names (mean, std, input_size, interpolation, crop_pct, crop_mode) as ours. */
export const readPretrainedCfg = (json: unknown, config: VitConfig, at: string): PretrainedCfg => {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail(`${at} must be an object`);
  const p = json as Record<string, unknown>;
  return {
    classes: config.classes,
    mean: numbers(p.mean ?? [0.5, 0.5, 0.5], `${at}.mean`),
    std: numbers(p.std ?? [0.5, 0.5, 0.5], `${at}.std`),
    inputSize: numbers(p.input_size ?? [config.channels, config.image, config.image], `${at}.input_size`),
    interpolation: typeof p.interpolation === "string" ? p.interpolation : "bicubic",
    cropPct: typeof p.crop_pct === "number" ? p.crop_pct : 0.9,
    ...(typeof p.crop_mode === "string" ? { cropMode: p.crop_mode } : {}),
  };
};

/** Preprocessing as timm's pretrained_cfg fields for a model of config `c` (timm's defaults where none is known). */
export const pretrainedCfgFields = (c: VitConfig, cfg?: PretrainedCfg): Record<string, unknown> => ({
  input_size: [c.channels, c.image, c.image],
  interpolation: cfg?.interpolation ?? "bicubic",
  crop_pct: cfg?.cropPct ?? 0.9,
  ...(cfg?.cropMode === undefined ? {} : { crop_mode: cfg.cropMode }),
  mean: cfg?.mean ?? new Array(c.channels).fill(0.5),
  std: cfg?.std ?? new Array(c.channels).fill(0.5),
  num_classes: c.classes,
});

/** The rows of a square position grid, or null. */
const gridSide = (rows: number): number | null => {
  const g = Math.round(Math.sqrt(rows));
  return g * g === rows && g > 0 ? g : null;
};

/**
 * An architecture's config fitted to a bare state dict: image size from the position embedding
 * (a square grid), classes from the head (0 when there is none). Null when the tensors are not
 * exactly that architecture's.
 */
export const fitToWeights = (arch: VitConfig, weights: Weights): VitConfig | null => {
  const pos = weights.get("pos_embed");
  const head = weights.get("head.weight");
  if (!pos || pos.shape.length !== 3) return null;
  const grid = gridSide(pos.shape[1]! - (arch.noEmbedClass ? 0 : prefixTokens(arch)));
  if (grid === null) return null;
  const config: VitConfig = { ...arch, image: grid * arch.patch, classes: head?.shape[0] ?? 0 };
  const params = vitParams(config);
  const fits =
    params.length === weights.size &&
    params.every((p) => {
      const t: HostTensor | undefined = weights.get(p.name);
      return t !== undefined && sameShape(t.shape, p.shape);
    });
  return fits ? config : null;
};

/**
 * The architecture of a bare timm state dict, from its tensor names and shapes alone, when only
 * one structure fits (names that differ only in defaults such as image size count as one);
 * otherwise an error that lists the candidates, or says none fits.
 */
export const inferArchitecture = (weights: Weights, source: string): { readonly config: VitConfig; readonly architecture: string } => {
  const fits = Object.entries(timmArchitectures).flatMap(([name, arch]) => {
    const config = fitToWeights(arch, weights);
    return config ? [{ name, config }] : [];
  });
  const structures = new Map<string, typeof fits>();
  for (const f of fits) {
    const key = JSON.stringify(f.config);
    structures.set(key, [...(structures.get(key) ?? []), f]);
  }
  if (structures.size === 1) {
    const [group] = structures.values();
    const best = group!.find((f) => f.config.image === timmArchitectures[f.name]!.image) ?? group![0]!;
    return { config: best.config, architecture: best.name };
  }
  if (structures.size === 0)
    return fail(`${source}: no timm VisionTransformer architecture has exactly these tensors; pass --arch (or backbone.arch) to be told which tensor differs`);
  return fail(
    `${source}: the tensors fit ${fits.length} timm architectures that compute differently (${fits.map((f) => f.name).join(", ")}); pass one with --arch (or backbone.arch)`,
  );
};

/** Our config's fields as timm VisionTransformer keyword arguments (the inverse of `overrides`). */
const asModelArgs = (c: VitConfig): Record<string, unknown> => ({
  img_size: c.image,
  patch_size: c.patch,
  in_chans: c.channels,
  num_classes: c.classes,
  embed_dim: c.width,
  depth: c.depth,
  num_heads: c.heads,
  mlp_ratio: c.mlpRatio,
  qkv_bias: c.qkvBias !== false,
  class_token: c.classToken !== false,
  reg_tokens: c.regTokens ?? 0,
  no_embed_class: c.noEmbedClass === true,
  pre_norm: c.preNorm === true,
  init_values: c.layerScale ? 1e-5 : null,
  global_pool: c.pool ?? "token",
  fc_norm: usesFcNorm(c),
  act_layer: Object.entries(activations).find(([, a]) => a === c.gelu)![0],
});

/** How many model_args an architecture needs to become `c` (fewer: a closer name). */
const distance = (arch: VitConfig, c: VitConfig): number => {
  const [a, b] = [asModelArgs(arch), asModelArgs(c)];
  return Object.keys(b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).length;
};

/**
 * A timm hub `config.json` for a plain VisionTransformer of config `c`: the architecture (the given
 * one, else the timm name closest to `c` with its LayerNorm ε, which timm's model_args cannot
 * set), and as model_args every field where `c` differs from it, so that
 * `timm.create_model(architecture, **model_args)` builds exactly this model.
 */
export const timmHubConfig = (c: VitConfig, architecture?: string, pretrainedCfg?: PretrainedCfg, description?: string): Record<string, unknown> => {
  if ((c.mlpAdapters ?? []).some((b) => b > 0)) fail("a backbone that keeps parallel adapter modules is not a timm VisionTransformer");
  const same = Object.entries(timmArchitectures).filter(([, a]) => a.layerNormEps === c.layerNormEps);
  const name =
    architecture !== undefined && timmArchitectures[baseName(architecture)]?.layerNormEps === c.layerNormEps
      ? baseName(architecture)
      : (same.sort(([, a], [, b]) => distance(a, c) - distance(b, c))[0]?.[0] ??
        fail(`no timm VisionTransformer architecture has LayerNorm eps ${c.layerNormEps}`));
  const [arch, wanted] = [asModelArgs(timmArchitectures[name]!), asModelArgs(c)];
  const modelArgs = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => JSON.stringify(arch[k]) !== JSON.stringify(v)));
  return {
    architecture: name,
    num_classes: c.classes,
    num_features: c.width,
    global_pool: c.pool ?? "token",
    model_args: modelArgs,
    pretrained_cfg: { ...(description === undefined ? {} : { description }), ...pretrainedCfgFields(c, pretrainedCfg) },
  };
};
