import * as t from "io-ts";
import { intAtLeast, literalOf, optional, positive, struct, withDefault } from "../dsl/codecKit.js";
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
  /**
   * Bottleneck width of a parallel adapter beside each block's MLP (0: none), as a merged
   * AdaptFormer leaves it: x ← x + MLP(LN2(x)) + up(ReLU(down(x))), its scale folded into up.
   * Absent for a plain timm ViT.
   */
  readonly mlpAdapters?: readonly number[];
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
  mlpAdapters: optional(t.array(intAtLeast(0))),
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
    if (v.mlpAdapters !== undefined && v.mlpAdapters.length !== v.depth) return t.failure(u, c, `config.mlpAdapters must list one bottleneck width per block (${v.depth}), got ${v.mlpAdapters.length}`);
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
/** The bottleneck of block i's kept parallel adapter, 0 when it has none. */
export const mlpAdapterWidth = (c: VitConfig, block: number): number => c.mlpAdapters?.[block] ?? 0;

/** ViT-B/16 as used in all five papers (ImageNet-21k pretrained, 224², VTAB heads vary). */
export const vitB16: VitConfig = {
  image: 224, channels: 3, patch: 16, width: 768, depth: 12, heads: 12, mlpRatio: 4, classes: 100,
  layerNormEps: 1e-6, gelu: "erf",
};

export const presets: Readonly<Record<string, VitConfig>> = { "vit-b16": vitB16 };
