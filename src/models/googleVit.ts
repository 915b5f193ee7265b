import type { HostTensor } from "./backbone.js";
import { SafetensorsError } from "./safetensors.js";
import { transpose } from "./hostTranspose.js";

const reshape = (t: HostTensor, shape: readonly number[]): HostTensor => ({ shape, data: t.data });

/** timm's `_n2p`: flax kernels to torch layouts (conv HWIO → OIHW, dense [in, out] → [out, in]). */
const n2p = (w: HostTensor, t = true): HostTensor => {
  const flat = w.shape.length === 4 && w.shape[0] === 1 && w.shape[1] === 1 && w.shape[2] === 1 ? reshape(w, [w.shape[3]!]) : w;
  if (!t) return flat;
  const perms: Readonly<Record<number, readonly number[]>> = { 4: [3, 2, 0, 1], 3: [2, 0, 1], 2: [1, 0] };
  const perm = perms[flat.shape.length];
  return perm ? transpose(flat, perm) : flat;
};

const flatten1 = (t: HostTensor): HostTensor => reshape(t, [t.shape[0]!, t.shape.slice(1).reduce((a, b) => a * b, 1)]);

const concatRows = (parts: readonly HostTensor[]): HostTensor => {
  const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { shape: [parts.reduce((n, p) => n + p.shape[0]!, 0), ...parts[0]!.shape.slice(1)], data };
};

/** The checkpoint's arrays that timm's loader reads, and what it leaves (the removed `pre_logits` layer). */
const ignored = (name: string) => /(^|\/)pre_logits\//.test(name);

/**
 * Every array's shape as the model's dimensions make it, from the array headers alone (nothing is
 * inflated yet): width, patch and channels from the embedding, tokens from the position embedding,
 * heads and MLP width from the first block, classes from the head. An array of another shape is an
 * error naming it, so an entry that claims a huge array is refused before it is inflated.
 */
export const checkGoogleVitShapes = (shapes: ReadonlyMap<string, readonly number[]>, source: string): void => {
  const prefix = shapes.has("opt/target/embedding/kernel") ? "opt/target/" : "";
  const dim = (name: string, axis: number) => shapes.get(prefix + name)?.[axis];
  const attention = "Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel";
  const [w, p, c, tokens] = [
    dim("embedding/bias", 0),
    dim("embedding/kernel", 0),
    dim("embedding/kernel", 2),
    dim("Transformer/posembed_input/pos_embedding", 1),
  ];
  const [heads, dh, mlp] = [dim(attention, 1), dim(attention, 2), dim("Transformer/encoderblock_0/MlpBlock_3/Dense_0/bias", 0)];
  const [classes, representation] = [dim("head/bias", 0), dim("pre_logits/bias", 0)];
  const model: Readonly<Record<string, readonly (number | undefined)[]>> = {
    cls: [1, 1, w],
    "Transformer/posembed_input/pos_embedding": [1, tokens, w],
    "embedding/kernel": [p, p, c, w],
    "embedding/bias": [w],
    "Transformer/encoder_norm/scale": [w],
    "Transformer/encoder_norm/bias": [w],
    "head/kernel": [w, classes],
    "head/bias": [classes],
    "pre_logits/kernel": [w, representation],
    "pre_logits/bias": [representation],
  };
  const block: Readonly<Record<string, readonly (number | undefined)[]>> = {
    "LayerNorm_0/scale": [w],
    "LayerNorm_0/bias": [w],
    "LayerNorm_2/scale": [w],
    "LayerNorm_2/bias": [w],
    ...Object.fromEntries(
      ["query", "key", "value"].flatMap((n) => [
        [`MultiHeadDotProductAttention_1/${n}/kernel`, [w, heads, dh]],
        [`MultiHeadDotProductAttention_1/${n}/bias`, [heads, dh]],
      ]),
    ),
    "MultiHeadDotProductAttention_1/out/kernel": [heads, dh, w],
    "MultiHeadDotProductAttention_1/out/bias": [w],
    "MlpBlock_3/Dense_0/kernel": [w, mlp],
    "MlpBlock_3/Dense_0/bias": [mlp],
    "MlpBlock_3/Dense_1/kernel": [mlp, w],
    "MlpBlock_3/Dense_1/bias": [w],
  };
  for (const [name, shape] of shapes) {
    if (!name.startsWith(prefix)) continue;
    const own = name.slice(prefix.length);
    const inBlock = /^Transformer\/encoderblock_\d+\/(.*)$/.exec(own)?.[1];
    const expected = inBlock === undefined ? model[own] : block[inBlock];
    // Arrays the mapping does not know, and dimensions of arrays that are missing, are reported when the arrays are mapped.
    if (expected === undefined || expected.includes(undefined)) continue;
    if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i]))
      throw new SafetensorsError(
        `${source}: array ${name} has shape ${JSON.stringify(shape)}, expected ${JSON.stringify(expected)} (width ${w}, ${heads} heads, MLP ${mlp}, ${tokens} tokens)`,
      );
  }
};

/**
 * Google's original ViT checkpoints (`ViT-B_16.npz`, the AugReg .npz files) in timm's names and
 * layouts, as timm's `_load_weights` maps them: q, k, v kernels [width, heads, dh] flattened,
 * transposed and stacked into `qkv` rows [q; k; v]; the out kernel [heads, dh, width] to
 * `proj` [width, width]; every dense kernel transposed. Also returns the head count, which the
 * attention kernels' shape states. Arrays the loader does not know are an error naming the first.
 */
export const googleVitToTimm = (
  arrays: ReadonlyMap<string, HostTensor>,
  source: string,
): { readonly weights: Map<string, HostTensor>; readonly heads: number } => {
  const prefix = arrays.has("opt/target/embedding/kernel") ? "opt/target/" : "";
  if (arrays.has("params/embedding/kernel") || arrays.has("params/img/embedding/kernel")) {
    throw new SafetensorsError(
      `${source}: a big_vision checkpoint (params/...): only the original ViT / AugReg layout (Transformer/encoderblock_i/...) is supported`,
    );
  }
  const used = new Set<string>();
  const get = (name: string): HostTensor => {
    const t = arrays.get(prefix + name);
    if (!t) throw new SafetensorsError(`${source}: missing array ${prefix}${name} (expected a Google ViT checkpoint in the original layout)`);
    used.add(prefix + name);
    return t;
  };
  const weights = new Map<string, HostTensor>();
  weights.set("cls_token", n2p(get("cls"), false));
  weights.set("pos_embed", n2p(get("Transformer/posembed_input/pos_embedding"), false));
  weights.set("patch_embed.proj.weight", n2p(get("embedding/kernel")));
  weights.set("patch_embed.proj.bias", n2p(get("embedding/bias")));
  let heads = 0;
  for (let i = 0; arrays.has(`${prefix}Transformer/encoderblock_${i}/LayerNorm_0/scale`); i++) {
    const b = `Transformer/encoderblock_${i}/`;
    const mha = `${b}MultiHeadDotProductAttention_1/`;
    const t = `blocks.${i}`;
    weights.set(`${t}.norm1.weight`, n2p(get(`${b}LayerNorm_0/scale`)));
    weights.set(`${t}.norm1.bias`, n2p(get(`${b}LayerNorm_0/bias`)));
    const parts = ["query", "key", "value"].map((n) => n2p(get(`${mha}${n}/kernel`), false));
    heads = parts[0]!.shape[1]!;
    weights.set(`${t}.attn.qkv.weight`, concatRows(parts.map((p) => transpose(flatten1(p), [1, 0]))));
    weights.set(
      `${t}.attn.qkv.bias`,
      concatRows(
        ["query", "key", "value"].map((n) => {
          const x = n2p(get(`${mha}${n}/bias`), false);
          return reshape(x, [x.data.length]);
        }),
      ),
    );
    weights.set(`${t}.attn.proj.weight`, flatten1(n2p(get(`${mha}out/kernel`))));
    weights.set(`${t}.attn.proj.bias`, n2p(get(`${mha}out/bias`)));
    weights.set(`${t}.norm2.weight`, n2p(get(`${b}LayerNorm_2/scale`)));
    weights.set(`${t}.norm2.bias`, n2p(get(`${b}LayerNorm_2/bias`)));
    for (const r of [0, 1]) {
      weights.set(`${t}.mlp.fc${r + 1}.weight`, n2p(get(`${b}MlpBlock_3/Dense_${r}/kernel`)));
      weights.set(`${t}.mlp.fc${r + 1}.bias`, n2p(get(`${b}MlpBlock_3/Dense_${r}/bias`)));
    }
  }
  if (heads === 0) throw new SafetensorsError(`${source}: no Transformer/encoderblock_0 arrays (expected a Google ViT checkpoint in the original layout)`);
  weights.set("norm.weight", n2p(get("Transformer/encoder_norm/scale")));
  weights.set("norm.bias", n2p(get("Transformer/encoder_norm/bias")));
  if (arrays.has(`${prefix}head/kernel`)) {
    weights.set("head.weight", n2p(get("head/kernel")));
    weights.set("head.bias", n2p(get("head/bias")));
  }
  const unknown = [...arrays.keys()].find((k) => !used.has(k) && !ignored(k));
  if (unknown !== undefined) throw new SafetensorsError(`${source}: array ${unknown} is not part of a ViT that timm's npz loader reads`);
  return { weights, heads };
};
