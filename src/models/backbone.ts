import { readSafetensors, toFloat32, writeSafetensors, SafetensorsError } from "./safetensors.js";
import { decodeVitConfig, type VitConfig } from "./vitConfig.js";
import { sizeOf, vitParams } from "./vitParams.js";

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
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Check that weights are exactly a timm ViT of this config: every tensor present, shapes right, nothing extra. */
export const checkWeights = (config: VitConfig, weights: Weights, source: string): void => {
  const expected = vitParams(config);
  for (const p of expected) {
    const t = weights.get(p.name);
    if (!t) throw new SafetensorsError(`${source}: missing tensor ${p.name} (shape ${JSON.stringify(p.shape)})`);
    if (!sameShape(t.shape, p.shape)) throw new SafetensorsError(`${source}: ${p.name} has shape ${JSON.stringify(t.shape)}, expected ${JSON.stringify(p.shape)} for this config`);
  }
  const names = new Set(expected.map((p) => p.name));
  const extra = [...weights.keys()].filter((k) => !names.has(k));
  if (extra.length > 0) throw new SafetensorsError(`${source}: unexpected tensor ${extra[0]} (expected a timm VisionTransformer with class-token pooling)`);
};

/** Read a backbone; the config comes from the metadata key `config`. */
export const readBackbone = (bytes: Uint8Array, source: string): Backbone => {
  const file = readSafetensors(bytes, source);
  const rawConfig = file.metadata.config;
  if (rawConfig === undefined) throw new SafetensorsError(`${source}: no "config" in the safetensors metadata (a JSON ViT config is required)`);
  let json: unknown;
  try {
    json = JSON.parse(rawConfig);
  } catch {
    throw new SafetensorsError(`${source}: metadata "config" is not valid JSON`);
  }
  const decoded = decodeVitConfig(json);
  if (decoded._tag === "Left") throw new SafetensorsError(`${source}: metadata config: ${decoded.left.join("; ")}`);
  const weights = new Map<string, HostTensor>();
  for (const [name, raw] of file.tensors) weights.set(name, { shape: raw.shape, data: toFloat32(raw, name) });
  checkWeights(decoded.right, weights, source);
  return { config: decoded.right, weights };
};

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
  return { config, weights };
};

export const parameterCount = (b: Backbone): number => [...b.weights.values()].reduce((n, t) => n + sizeOf(t.shape), 0);
