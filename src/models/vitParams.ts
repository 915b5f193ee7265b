import { mlpAdapterWidth, mlpHidden, positionRows, usesFcNorm, type VitConfig } from "./vitConfig.js";

/**
 * Roles a site can play. `q`, `k`, `v` are the row thirds of the fused `qkv` weight; `mlp` is
 * both MLP linears; `adapter` the linears of a parallel adapter kept in a merged backbone; `reg` the
 * register tokens; `scale` the layer-scale vectors `ls1.gamma`, `ls2.gamma`.
 */
export const roles = ["qkv", "q", "k", "v", "proj", "fc1", "fc2", "mlp", "norm", "bias", "head", "patch", "cls", "reg", "pos", "scale", "adapter"] as const;
export type Role = (typeof roles)[number];

/** One tensor of the backbone, under timm's name and in timm's shape. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A kept parallel adapter's linears (AdaptFormer's names), when the block has one. */
const adapterParams = (b: string, w: number, bottleneck: number): ParamSpec[] =>
  bottleneck === 0
    ? []
    : [
        { name: `${b}.adaptmlp.down_proj.weight`, shape: [bottleneck, w] },
        { name: `${b}.adaptmlp.down_proj.bias`, shape: [bottleneck] },
        { name: `${b}.adaptmlp.up_proj.weight`, shape: [w, bottleneck] },
        { name: `${b}.adaptmlp.up_proj.bias`, shape: [w] },
      ];

const when = (on: boolean, specs: ParamSpec[]): ParamSpec[] => (on ? specs : []);
const normParams = (name: string, w: number): ParamSpec[] => [
  { name: `${name}.weight`, shape: [w] },
  { name: `${name}.bias`, shape: [w] },
];

/** Every parameter of a timm VisionTransformer of this config, in timm's order. */
export const vitParams = (c: VitConfig): ParamSpec[] => {
  const w = c.width;
  const h = mlpHidden(c);
  const blocks = Array.from({ length: c.depth }, (_, i): ParamSpec[] => {
    const b = `blocks.${i}`;
    return [
      ...normParams(`${b}.norm1`, w),
      { name: `${b}.attn.qkv.weight`, shape: [3 * w, w] },
      ...when(c.qkvBias !== false, [{ name: `${b}.attn.qkv.bias`, shape: [3 * w] }]),
      { name: `${b}.attn.proj.weight`, shape: [w, w] },
      { name: `${b}.attn.proj.bias`, shape: [w] },
      ...when(c.layerScale === true, [{ name: `${b}.ls1.gamma`, shape: [w] }]),
      ...normParams(`${b}.norm2`, w),
      { name: `${b}.mlp.fc1.weight`, shape: [h, w] },
      { name: `${b}.mlp.fc1.bias`, shape: [h] },
      { name: `${b}.mlp.fc2.weight`, shape: [w, h] },
      { name: `${b}.mlp.fc2.bias`, shape: [w] },
      ...when(c.layerScale === true, [{ name: `${b}.ls2.gamma`, shape: [w] }]),
      ...adapterParams(b, w, mlpAdapterWidth(c, i)),
    ];
  });
  const fcNorm = usesFcNorm(c);
  return [
    ...when(c.classToken !== false, [{ name: "cls_token", shape: [1, 1, w] }]),
    ...when((c.regTokens ?? 0) > 0, [{ name: "reg_token", shape: [1, c.regTokens!, w] }]),
    { name: "pos_embed", shape: [1, positionRows(c), w] },
    { name: "patch_embed.proj.weight", shape: [w, c.channels, c.patch, c.patch] },
    // timm drops the patch projection's bias under pre-norm (CLIP).
    ...when(c.preNorm !== true, [{ name: "patch_embed.proj.bias", shape: [w] }]),
    ...when(c.preNorm === true, normParams("norm_pre", w)),
    ...blocks.flat(),
    ...when(!fcNorm, normParams("norm", w)),
    ...when(fcNorm, normParams("fc_norm", w)),
    ...when(c.classes > 0, [
      { name: "head.weight", shape: [c.classes, w] },
      { name: "head.bias", shape: [c.classes] },
    ]),
  ];
};

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const totalParams = (c: VitConfig): number => vitParams(c).reduce((n, p) => n + sizeOf(p.shape), 0);

/**
 * A site: what a selector picks and a transform acts on. Most sites are whole parameters;
 * `q`, `k`, `v` are row blocks of the fused qkv weight. Matrix sites are linear weights seen as
 * [dout, din] (the patch-embedding kernel [w, C, P, P] is seen as [w, C·P·P]).
 */
export interface Site {
  readonly name: string;
  readonly param: string;
  /** Row range [start, end) inside the parameter, or null for the whole parameter. */
  readonly rows: readonly [number, number] | null;
  readonly shape: readonly number[];
  readonly matrix: boolean;
  readonly roles: readonly Role[];
  readonly block: number | null;
}

const moduleRoles: ReadonlyArray<readonly [RegExp, Role]> = [
  [/^patch_embed\./, "patch"],
  [/^cls_token$/, "cls"],
  [/^reg_token$/, "reg"],
  [/\.ls[12]\.gamma$/, "scale"],
  [/^pos_embed$/, "pos"],
  [/\.attn\.qkv\./, "qkv"],
  [/\.attn\.proj\./, "proj"],
  [/\.mlp\.fc1\./, "fc1"],
  [/\.mlp\.fc2\./, "fc2"],
  [/\.mlp\./, "mlp"],
  [/\.adaptmlp\./, "adapter"],
  [/(^|\.)(fc_)?norm(_pre|[12])?\./, "norm"],
  [/^head\./, "head"],
];

const blockOf = (name: string): number | null => {
  const m = /^blocks\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
};

/** All sites of a ViT: one per parameter, plus the q/k/v row blocks right after each qkv weight. */
export const vitSites = (c: VitConfig): Site[] =>
  vitParams(c).flatMap((p): Site[] => {
    const roles = moduleRoles.filter(([re]) => re.test(p.name)).map(([, r]) => r);
    if (p.name.endsWith(".bias")) roles.push("bias");
    const isMatrix = p.name.endsWith(".weight") && p.shape.length >= 2;
    const shape = isMatrix ? [p.shape[0]!, sizeOf(p.shape.slice(1))] : p.shape;
    const block = blockOf(p.name);
    const whole: Site = { name: p.name, param: p.name, rows: null, shape, matrix: isMatrix, roles, block };
    if (!p.name.endsWith(".attn.qkv.weight")) return [whole];
    const w = c.width;
    const slices = (["q", "k", "v"] as const).map((r, i): Site => ({
      name: `${p.name}[${r}]`,
      param: p.name,
      rows: [i * w, (i + 1) * w],
      shape: [w, w],
      matrix: true,
      roles: [r],
      block,
    }));
    return [whole, ...slices];
  });
