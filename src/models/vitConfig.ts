import { activations, type Activation } from "../ops/activation.js";
import { decodeWith } from "../util/codecKit.js";
import * as t from "io-ts";
import { intIn, literalOf, numberIn, optional, positive, struct, withDefault } from "../util/codecKit.js";

/** A ViT's shape, in the form stored under the safetensors metadata key `config`. */
export interface VitConfig {
  readonly image: number;
  readonly channels: number;
  readonly patch: number;
  readonly width: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlpRatio: number;
  /** Outputs of the linear head; 0: no head, the model outputs its pooled features (timm's num_classes=0). */
  readonly classes: number;
  readonly layerNormEps: number;
  /** The MLP's activation: exact (erf) GELU, timm's default; tanh-approximated GELU; OpenAI CLIP's QuickGELU x·σ(1.702x). */
  readonly gelu: Activation;
  /** Whether qkv has a bias (timm's `qkv_bias`); default true. */
  readonly qkvBias?: boolean;
  /** Whether a class token leads the sequence (timm's `class_token`); default true. */
  readonly classToken?: boolean;
  /** Register tokens after the class token (timm's `reg_tokens`, DINOv2-reg); default 0. */
  readonly regTokens?: number;
  /** Position embeddings cover the patches only, added before the prefix tokens join (timm's `no_embed_class`). */
  readonly noEmbedClass?: boolean;
  /** A LayerNorm `norm_pre` after the embeddings; the patch projection then has no bias (timm's `pre_norm`, CLIP). */
  readonly preNorm?: boolean;
  /** Per-block learned scales `ls1.gamma`, `ls2.gamma` on the attention and MLP branches (DeiT-III, DINOv2). */
  readonly layerScale?: boolean;
  /** Head input: the class token, or the mean of the patch tokens (timm's `global_pool`); default "token". */
  readonly pool?: Pool;
  /** The final norm applied after pooling as `fc_norm` instead of before it as `norm`; default: pool is "avg" (timm's rule). */
  readonly fcNorm?: boolean;
  /**
   * Bottleneck width of a parallel adapter beside each block's MLP (0: none), as a merged
   * AdaptFormer leaves it: x ← x + MLP(LN2(x)) + up(ReLU(down(x))), its scale folded into up.
   * Absent for a plain timm ViT.
   */
  readonly mlpAdapters?: readonly number[];
}

export { activations, type Activation } from "../ops/activation.js";
export type Pool = "token" | "avg";

const VitConfigShape = struct("vit config", {
  image: intIn(1, 16384),
  channels: intIn(1, 64),
  patch: intIn(1, 1024),
  width: intIn(1, 16384),
  depth: intIn(1, 256),
  heads: intIn(1, 1024),
  mlpRatio: numberIn("number in (0, 64]", (n) => n > 0 && n <= 64),
  classes: intIn(0, 1_000_000),
  layerNormEps: withDefault(positive, 1e-6),
  gelu: withDefault(literalOf("gelu", activations), "erf"),
  qkvBias: optional(t.boolean),
  classToken: optional(t.boolean),
  regTokens: optional(intIn(0, 1024)),
  noEmbedClass: optional(t.boolean),
  preNorm: optional(t.boolean),
  layerScale: optional(t.boolean),
  pool: optional(literalOf("pool", ["token", "avg"])),
  fcNorm: optional(t.boolean),
  mlpAdapters: optional(t.array(intIn(0, 65536))),
});

export const VitConfigCodec: t.Type<VitConfig> = new t.Type<VitConfig>(
  "vit config",
  VitConfigShape.is,
  (u, c) => {
    const r = VitConfigShape.validate(u, c);
    if (r._tag === "Left") return r;
    const v = r.right;
    if (v.image % v.patch !== 0) return t.failure(u, c, `config.image (${v.image}) must be a multiple of config.patch (${v.patch})`);
    if ((v.image / v.patch) ** 2 > 65536)
      return t.failure(u, c, `config.image / config.patch gives ${(v.image / v.patch) ** 2} patches; at most 65,536 are supported`);
    if (v.width % v.heads !== 0) return t.failure(u, c, `config.width (${v.width}) must be a multiple of config.heads (${v.heads})`);
    if (!Number.isInteger(v.width * v.mlpRatio)) return t.failure(u, c, `config.width × config.mlpRatio must be an integer`);
    if (v.classToken === false && (v.pool ?? "token") === "token")
      return t.failure(u, c, `config.pool "token" needs a class token (config.classToken is false)`);
    if (v.mlpAdapters !== undefined && v.mlpAdapters.length !== v.depth)
      return t.failure(u, c, `config.mlpAdapters must list one bottleneck width per block (${v.depth}), got ${v.mlpAdapters.length}`);
    return t.success(v);
  },
  t.identity,
);

export const decodeVitConfig = (u: unknown) => decodeWith(VitConfigCodec, u);

export const patchesPerSide = (c: VitConfig): number => c.image / c.patch;
/** Tokens before the patches: the class token (when there is one), then the register tokens. */
export const prefixTokens = (c: VitConfig): number => (c.classToken === false ? 0 : 1) + (c.regTokens ?? 0);
/** Sequence length: prefix tokens plus patches. */
export const tokens = (c: VitConfig): number => patchesPerSide(c) ** 2 + prefixTokens(c);
/** Rows of `pos_embed`: every token, or the patches alone under `noEmbedClass`. */
export const positionRows = (c: VitConfig): number => (c.noEmbedClass ? patchesPerSide(c) ** 2 : tokens(c));
export const poolOf = (c: VitConfig): Pool => c.pool ?? "token";
/** timm: `fc_norm` defaults to on exactly when the pool averages. */
export const usesFcNorm = (c: VitConfig): boolean => c.fcNorm ?? poolOf(c) === "avg";
export const mlpHidden = (c: VitConfig): number => c.width * c.mlpRatio;
export const headDim = (c: VitConfig): number => c.width / c.heads;
/** The bottleneck of block i's kept parallel adapter, 0 when it has none. */
export const mlpAdapterWidth = (c: VitConfig, block: number): number => c.mlpAdapters?.[block] ?? 0;

/** ViT-B/16 as used in all five papers (ImageNet-21k pretrained, 224², VTAB heads vary). */
export const vitB16: VitConfig = {
  image: 224,
  channels: 3,
  patch: 16,
  width: 768,
  depth: 12,
  heads: 12,
  mlpRatio: 4,
  classes: 100,
  layerNormEps: 1e-6,
  gelu: "erf",
};

export const presets: Readonly<Record<string, VitConfig>> = { "vit-b16": vitB16 };
