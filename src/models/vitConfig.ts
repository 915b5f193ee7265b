import * as t from "io-ts";
import { intAtLeast, literalOf, positive, struct, withDefault } from "../dsl/codecKit.js";
import { decodeWith } from "../dsl/codecs.js";

/** A ViT's shape, in the form stored under the safetensors metadata key `config`. */
export interface VitConfig {
  readonly image: number;
  readonly channels: number;
  readonly patch: number;
  readonly width: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlpRatio: number;
  readonly classes: number;
  readonly layerNormEps: number;
  /** timm's default GELU is the exact (erf) form. */
  readonly gelu: "erf";
}

const VitConfigShape = struct("vit config", {
  image: intAtLeast(1),
  channels: intAtLeast(1),
  patch: intAtLeast(1),
  width: intAtLeast(1),
  depth: intAtLeast(1),
  heads: intAtLeast(1),
  mlpRatio: positive,
  classes: intAtLeast(1),
  layerNormEps: withDefault(positive, 1e-6),
  gelu: withDefault(literalOf("gelu", ["erf"]), "erf"),
});

export const VitConfigCodec: t.Type<VitConfig> = new t.Type<VitConfig>(
  "vit config",
  VitConfigShape.is,
  (u, c) => {
    const r = VitConfigShape.validate(u, c);
    if (r._tag === "Left") return r;
    const v = r.right;
    if (v.image % v.patch !== 0) return t.failure(u, c, `config.image (${v.image}) must be a multiple of config.patch (${v.patch})`);
    if (v.width % v.heads !== 0) return t.failure(u, c, `config.width (${v.width}) must be a multiple of config.heads (${v.heads})`);
    if (!Number.isInteger(v.width * v.mlpRatio)) return t.failure(u, c, `config.width × config.mlpRatio must be an integer`);
    return t.success(v);
  },
  t.identity,
);

export const decodeVitConfig = (u: unknown) => decodeWith(VitConfigCodec, u);

export const patchesPerSide = (c: VitConfig): number => c.image / c.patch;
/** Sequence length: patches plus the CLS token. */
export const tokens = (c: VitConfig): number => patchesPerSide(c) ** 2 + 1;
export const mlpHidden = (c: VitConfig): number => c.width * c.mlpRatio;
export const headDim = (c: VitConfig): number => c.width / c.heads;

/** ViT-B/16 as used in all five papers (ImageNet-21k pretrained, 224², VTAB heads vary). */
export const vitB16: VitConfig = {
  image: 224, channels: 3, patch: 16, width: 768, depth: 12, heads: 12, mlpRatio: 4, classes: 100,
  layerNormEps: 1e-6, gelu: "erf",
};

export const presets: Readonly<Record<string, VitConfig>> = { "vit-b16": vitB16 };
