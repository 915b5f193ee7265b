import type { Module64 } from "../../primitives/primitive.js";
import type { Activation, VitConfig } from "../../models/vitConfig.js";
import { mlpAdapterWidth, mlpHidden, patchesPerSide, poolOf, prefixTokens, tokens, usesFcNorm } from "../../models/vitConfig.js";
import { erf64 } from "./erf64.js";

/** float64 weights under timm's names, in timm's layouts (a linear weight is [dout, din]). */
export type Weights64 = ReadonlyMap<string, Float64Array>;

export interface Output64 {
  readonly logits: Float64Array;
  readonly preLogits: Float64Array;
  /** Residual stream after each block, [n, tokens, width] row-major. */
  readonly blocks: readonly Float64Array[];
}

/** A module beside a block's MLP: x ↦ scale·(up ReLU(down x + downBias) + upBias). */

/** rows × din → rows × dout: y = x Wᵀ + b (b undefined: none), written out as loops. */
const linear64 = (x: Float64Array, rows: number, din: number, w: Float64Array, b: Float64Array | undefined, dout: number): Float64Array => {
  const y = new Float64Array(rows * dout);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < dout; o++) {
      let s = b?.[o] ?? 0;
      for (let i = 0; i < din; i++) s += x[r * din + i]! * w[o * din + i]!;
      y[r * dout + o] = s;
    }
  }
  return y;
};

const layerNorm64 = (x: Float64Array, rows: number, d: number, g: Float64Array, b: Float64Array, eps: number): Float64Array => {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * inv * g[i]! + b[i]!;
  }
  return y;
};

const module64 = (m: Module64, x: Float64Array, rows: number, w: number): Float64Array => {
  const zeros = (k: number) => new Float64Array(k);
  const hidden = linear64(x, rows, w, Float64Array.from(m.down), m.downBias ? Float64Array.from(m.downBias) : zeros(m.bottleneck), m.bottleneck).map((v) =>
    Math.max(v, 0),
  );
  return linear64(hidden, rows, m.bottleneck, Float64Array.from(m.up), m.upBias ? Float64Array.from(m.upBias) : zeros(w), w).map((v) => m.scale * v);
};

/** Per sample and head: softmax(q kᵀ / √dh) v, from the fused qkv rows [t, 3w]. */
const attention64 = (qkv: Float64Array, n: number, t: number, w: number, heads: number): Float64Array => {
  const dh = w / heads;
  const out = new Float64Array(n * t * w);
  const scores = new Float64Array(t);
  for (let s = 0; s < n; s++) {
    for (let h = 0; h < heads; h++) {
      const at = (tok: number, part: number, j: number) => qkv[(s * t + tok) * 3 * w + part * w + h * dh + j]!;
      for (let i = 0; i < t; i++) {
        let max = -Infinity;
        for (let k = 0; k < t; k++) {
          let dot = 0;
          for (let j = 0; j < dh; j++) dot += at(i, 0, j) * at(k, 1, j);
          scores[k] = dot / Math.sqrt(dh);
          max = Math.max(max, scores[k]!);
        }
        let z = 0;
        for (let k = 0; k < t; k++) z += scores[k] = Math.exp(scores[k]! - max);
        for (let j = 0; j < dh; j++) {
          let acc = 0;
          for (let k = 0; k < t; k++) acc += (scores[k]! / z) * at(k, 2, j);
          out[(s * t + i) * w + h * dh + j] = acc;
        }
      }
    }
  }
  return out;
};

const activation64 = (kind: Activation, v: number): number => {
  if (kind === "erf") return 0.5 * v * (1 + erf64(v / Math.SQRT2));
  if (kind === "tanh") return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  return v / (1 + Math.exp(-1.702 * v));
};

/** timm's VisionTransformer forward in float64 on NHWC images: the oracle of the laws. `keep`: stochastic depth's [n, 2·depth] multipliers (see `vitForward`). */
export const vitForward64 = (
  c: VitConfig,
  wts: Weights64,
  images: Float64Array,
  n: number,
  beside: (block: number) => readonly Module64[] = () => [],
  keep?: Float64Array,
): Output64 => {
  const W = (name: string) => wts.get(name)!;
  const t = tokens(c);
  const w = c.width;
  const g = patchesPerSide(c);
  const P = c.patch;
  const prefix = prefixTokens(c);
  const x = new Float64Array(n * t * w);
  const kernel = W("patch_embed.proj.weight");
  const kb = wts.get("patch_embed.proj.bias");
  const prefixRows = [...(c.classToken === false ? [] : [W("cls_token")]), ...((c.regTokens ?? 0) > 0 ? [W("reg_token")] : [])].flatMap((tensor) =>
    Array.from({ length: tensor.length / w }, (_, r) => tensor.subarray(r * w, (r + 1) * w)),
  );
  // Under noEmbedClass the position rows start at the first patch; the prefix tokens get none.
  const posRow = (tok: number) => (c.noEmbedClass ? (tok < prefix ? null : tok - prefix) : tok);
  const pos = W("pos_embed");
  for (let s = 0; s < n; s++) {
    for (let tok = 0; tok < prefix; tok++) for (let o = 0; o < w; o++) x[(s * t + tok) * w + o] = prefixRows[tok]![o]!;
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++) {
        const tok = prefix + gy * g + gx;
        for (let o = 0; o < w; o++) {
          let acc = kb?.[o] ?? 0;
          for (let ch = 0; ch < c.channels; ch++) {
            for (let py = 0; py < P; py++) {
              for (let px = 0; px < P; px++) {
                const pixel = images[((s * c.image + gy * P + py) * c.image + gx * P + px) * c.channels + ch]!;
                acc += kernel[((o * c.channels + ch) * P + py) * P + px]! * pixel;
              }
            }
          }
          x[(s * t + tok) * w + o] = acc;
        }
      }
    }
    for (let tok = 0; tok < t; tok++) {
      const r = posRow(tok);
      if (r !== null) for (let o = 0; o < w; o++) x[(s * t + tok) * w + o]! += pos[r * w + o]!;
    }
  }
  const rows = n * t;
  if (c.preNorm) x.set(layerNorm64(x, rows, w, W("norm_pre.weight"), W("norm_pre.bias"), c.layerNormEps));
  const gamma = (name: string, k: number) => (c.layerScale ? W(name)[k % w]! : 1);
  const hidden = mlpHidden(c);
  const blocks: Float64Array[] = [];
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    const h1 = layerNorm64(x, rows, w, W(`${b}.norm1.weight`), W(`${b}.norm1.bias`), c.layerNormEps);
    const qkv = linear64(h1, rows, w, W(`${b}.attn.qkv.weight`), wts.get(`${b}.attn.qkv.bias`), 3 * w);
    const proj = linear64(attention64(qkv, n, t, w, c.heads), rows, w, W(`${b}.attn.proj.weight`), W(`${b}.attn.proj.bias`), w);
    // Row r of the stream is token r mod t of image ⌊r / t⌋.
    const kept1 = (k: number) => (keep === undefined ? 1 : keep[Math.floor(k / (t * w)) * 2 * c.depth + 2 * i]!);
    const kept2 = (k: number) => (keep === undefined ? 1 : keep[Math.floor(k / (t * w)) * 2 * c.depth + 2 * i + 1]!);
    for (let k = 0; k < x.length; k++) x[k]! += kept1(k) * gamma(`${b}.ls1.gamma`, k) * proj[k]!;
    const kept: Module64[] =
      mlpAdapterWidth(c, i) === 0
        ? []
        : [
            {
              bottleneck: mlpAdapterWidth(c, i),
              scale: 1,
              down: W(`${b}.adaptmlp.down_proj.weight`),
              downBias: W(`${b}.adaptmlp.down_proj.bias`),
              up: W(`${b}.adaptmlp.up_proj.weight`),
              upBias: W(`${b}.adaptmlp.up_proj.bias`),
            },
          ];
    // Modules read the stream before norm2 (AdaptFormer's code).
    const side = [...kept, ...beside(i)].map((m) => module64(m, x, rows, w));
    const h2 = layerNorm64(x, rows, w, W(`${b}.norm2.weight`), W(`${b}.norm2.bias`), c.layerNormEps);
    const f1 = linear64(h2, rows, w, W(`${b}.mlp.fc1.weight`), W(`${b}.mlp.fc1.bias`), hidden);
    for (let k = 0; k < f1.length; k++) f1[k] = activation64(c.gelu, f1[k]!);
    const f2 = linear64(f1, rows, hidden, W(`${b}.mlp.fc2.weight`), W(`${b}.mlp.fc2.bias`), w);
    for (let k = 0; k < x.length; k++) x[k]! += kept2(k) * gamma(`${b}.ls2.gamma`, k) * f2[k]! + side.reduce((acc, y) => acc + y[k]!, 0);
    blocks.push(x.slice());
  }
  const fcNorm = usesFcNorm(c);
  const final = fcNorm ? x : layerNorm64(x, rows, w, W("norm.weight"), W("norm.bias"), c.layerNormEps);
  const pooled = new Float64Array(n * w);
  for (let s = 0; s < n; s++) {
    if (poolOf(c) === "token") pooled.set(final.subarray(s * t * w, s * t * w + w), s * w);
    else {
      for (let tok = prefix; tok < t; tok++) for (let o = 0; o < w; o++) pooled[s * w + o]! += final[(s * t + tok) * w + o]! / (t - prefix);
    }
  }
  const preLogits = fcNorm ? layerNorm64(pooled, n, w, W("fc_norm.weight"), W("fc_norm.bias"), c.layerNormEps) : pooled;
  const logits = c.classes === 0 ? preLogits : linear64(preLogits, n, w, W("head.weight"), W("head.bias"), c.classes);
  return { logits, preLogits, blocks };
};
