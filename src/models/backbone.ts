import { checkGoogleVitShapes, googleVitToTimm } from "./googleVit.js";
import { readNpz } from "./npz.js";
import { resamplePosEmbed } from "./resamplePosEmbed.js";
import { readSafetensors, toFloat32, writeSafetensors, SafetensorsError, type SafetensorsFile } from "./safetensors.js";
import {
  architectureConfig,
  baseName,
  fitToWeights,
  hubConfig,
  inferArchitecture,
  pretrainedCfgFields,
  pretrainedCfgOf,
  readPretrainedCfg,
  type PretrainedCfg,
} from "./timmConfig.js";
import { decodeVitConfig, prefixTokens, type VitConfig } from "./vitConfig.js";
import { vitParams } from "./vitParams.js";

/** A float32 tensor on the host. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type Weights = ReadonlyMap<string, HostTensor>;

/** A ViT: its config and its weights, under timm's names and in timm's layouts. */
export interface Backbone {
  readonly config: VitConfig;
  readonly weights: Weights;
  /**
   * What is known of the weights' origin: the timm architecture they were read as, the
   * preprocessing they were pretrained with (timm's pretrained_cfg), and the name of the
   * pretrained model (ours carry the last two in the metadata keys `pretrained_cfg` and `name`).
   */
  readonly timm?: { readonly architecture?: string; readonly pretrainedCfg?: PretrainedCfg; readonly name?: string };
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Check that weights are exactly a timm ViT of this config: every tensor present, shapes right, nothing extra. */
export const checkWeights = (config: VitConfig, weights: Weights, source: string): void => {
  const expected = vitParams(config);
  for (const p of expected) {
    const t = weights.get(p.name);
    if (!t) throw new SafetensorsError(`${source}: missing tensor ${p.name} (shape ${JSON.stringify(p.shape)})`);
    if (!sameShape(t.shape, p.shape))
      throw new SafetensorsError(`${source}: ${p.name} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(p.shape)} for this config`);
  }
  const names = new Set(expected.map((p) => p.name));
  const extra = [...weights.keys()].filter((k) => !names.has(k));
  if (extra.length > 0) throw new SafetensorsError(`${source}: tensor ${extra[0]} is not part of this VisionTransformer (${describeOptions(config)})`);
};

const describeOptions = (c: VitConfig): string =>
  [
    `width ${c.width}`,
    `depth ${c.depth}`,
    c.classToken === false ? "no class token" : "class token",
    `${c.regTokens ?? 0} register tokens`,
    c.qkvBias === false ? "no qkv bias" : "qkv bias",
    c.layerScale ? "layer scale" : "no layer scale",
    c.preNorm ? "pre-norm" : "no pre-norm",
    `${c.pool ?? "token"} pool`,
    `${c.classes} classes`,
  ].join(", ");

/** The file's tensors as float32 (F16, BF16 and F64 are converted). */
const floatWeights = (file: SafetensorsFile): Map<string, HostTensor> =>
  new Map([...file.tensors].map(([name, raw]) => [name, { shape: raw.shape, data: toFloat32(raw, name) }]));

/** Where a timm state dict's architecture comes from: the text of a hub config.json beside it, a timm name, or (neither) its shapes. */
export interface ArchitectureSource {
  readonly hubConfig?: { readonly text: string; readonly path: string };
  readonly arch?: string;
}

const parseJson = (text: string, path: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`${path} is not valid JSON (${(e as Error).message})`);
  }
};

/** A timm state dict as a backbone: its config from config.json, from a name fitted to the tensors, or inferred; an error names the first tensor that differs. */
const timmBackbone = (weights: Map<string, HostTensor>, source: string, from: ArchitectureSource): Backbone => {
  const timm = (architecture: string, pretrainedCfg: PretrainedCfg | undefined) => ({ architecture, ...(pretrainedCfg ? { pretrainedCfg } : {}) });
  if (from.hubConfig) {
    const hub = hubConfig(parseJson(from.hubConfig.text, from.hubConfig.path), from.hubConfig.path);
    checkWeights(hub.config, weights, `${source} (as ${hub.architecture} with ${from.hubConfig.path})`);
    return { config: hub.config, weights, timm: timm(hub.architecture, hub.pretrainedCfg) };
  }
  if (from.arch === undefined) {
    const inferred = inferArchitecture(weights, source);
    return { config: inferred.config, weights, timm: timm(inferred.architecture, undefined) };
  }
  const base = architectureConfig(from.arch, "--arch");
  const config = fitToWeights(base, weights);
  if (config === null) checkWeights({ ...base, classes: weights.get("head.weight")?.shape[0] ?? 0 }, weights, `${source} (as ${from.arch})`);
  return { config: config!, weights, timm: timm(baseName(from.arch), pretrainedCfgOf(from.arch)) };
};

/** Google's original .npz ViT checkpoint (ViT-B_16.npz), mapped to timm's names as timm's npz loader does. */
export const readNpzBackbone = (bytes: Uint8Array, source: string, from: ArchitectureSource = {}): Backbone => {
  const { weights, heads } = googleVitToTimm(
    readNpz(bytes, source, (shapes) => checkGoogleVitShapes(shapes, source)),
    source,
  );
  const b = timmBackbone(weights, source, from);
  // The .npz states the head count (query kernels [width, heads, dh]): the architecture must agree.
  if (b.config.heads !== heads)
    throw new SafetensorsError(`${source}: its attention kernels have ${heads} heads, but ${b.timm!.architecture} has ${b.config.heads}`);
  return b;
};

/** The backbone at another image size: the position embedding resampled to the new patch grid. */
export const atImageSize = (b: Backbone, image: number, field: string): Backbone => {
  const c = b.config;
  if (image === c.image) return b;
  if (!Number.isInteger(image) || image < c.patch || image % c.patch !== 0)
    throw new SafetensorsError(`${field}: image size ${image} must be a positive multiple of the patch size ${c.patch}`);
  const weights = new Map(b.weights);
  weights.set("pos_embed", resamplePosEmbed(b.weights.get("pos_embed")!, c.noEmbedClass ? 0 : prefixTokens(c), image / c.patch));
  return { ...b, config: { ...c, image }, weights };
};

/**
 * Read a safetensors backbone: ours (the config under the metadata key `config`), or a timm state
 * dict whose architecture comes from `from` (see ArchitectureSource).
 */
export const readBackbone = (bytes: Uint8Array, source: string, from: ArchitectureSource = {}): Backbone => {
  const file = readSafetensors(bytes, source);
  const rawConfig = file.metadata.config;
  return rawConfig === undefined ? timmBackbone(floatWeights(file), source, from) : ownBackbone(file, rawConfig, source);
};

const ownBackbone = (file: SafetensorsFile, rawConfig: string, source: string): Backbone => {
  const decoded = decodeVitConfig(parseJson(rawConfig, `${source}: metadata "config"`));
  if (decoded._tag === "Left") throw new SafetensorsError(`${source}: metadata config: ${decoded.left.join("; ")}`);
  const weights = floatWeights(file);
  checkWeights(decoded.right, weights, source);
  const { name, pretrained_cfg: cfg } = file.metadata;
  const pretrainedCfg =
    cfg === undefined
      ? undefined
      : readPretrainedCfg(parseJson(cfg, `${source}: metadata "pretrained_cfg"`), decoded.right, `${source}: metadata pretrained_cfg`);
  if (name === undefined && pretrainedCfg === undefined) return { config: decoded.right, weights };
  return { config: decoded.right, weights, timm: { ...(name === undefined ? {} : { name }), ...(pretrainedCfg === undefined ? {} : { pretrainedCfg }) } };
};

/** The metadata that says where weights of config `c` come from: the pretrained model's name, the preprocessing they expect. */
export const originMetadata = (c: VitConfig, origin: { readonly name?: string; readonly pretrainedCfg: PretrainedCfg }): Record<string, string> => ({
  ...(origin.name === undefined ? {} : { name: origin.name }),
  pretrained_cfg: JSON.stringify(pretrainedCfgFields(c, origin.pretrainedCfg)),
});

/** Serialise a backbone in timm's order, with its config under the metadata key `config`. */
export const backboneBytes = (b: Backbone, metadata: Readonly<Record<string, string>> = {}): Uint8Array =>
  writeSafetensors(
    vitParams(b.config).map((p) => ({ name: p.name, shape: p.shape, data: b.weights.get(p.name)!.data })),
    { ...metadata, config: JSON.stringify(b.config) },
  );

/** The same backbone with a zero head for `classes` outputs (a new task's head). */
export const withZeroHead = (b: Backbone, classes: number): Backbone => {
  const config = { ...b.config, classes };
  const weights = new Map(b.weights);
  weights.set("head.weight", { shape: [classes, config.width], data: new Float32Array(classes * config.width) });
  weights.set("head.bias", { shape: [classes], data: new Float32Array(classes) });
  return { ...b, config, weights };
};
