import * as tf from "@tensorflow/tfjs-core";
import { activation } from "../ops/activation.js";
import { attention } from "../ops/attention.js";
import { layerNorm } from "../ops/layerNorm.js";
import { patchify } from "../ops/patchify.js";
import { mlpAdapterWidth, patchesPerSide, poolOf, prefixTokens, tokens, usesFcNorm, type VitConfig } from "./vitConfig.js";

/**
 * How the forward pass reaches its weights. The model is data plus this function; whoever
 * supplies the access (a compiled Method, a merged checkpoint) decides how each linear runs.
 */
export interface VitAccess {
  /** y = x W'ᵀ + b' for the linear whose parameters are `${module}.weight` and `${module}.bias` (no b' when the model has none). */
  readonly linear: (module: string, x: tf.Tensor2D) => tf.Tensor2D;
  /** The effective value of any other parameter (norms, cls_token, pos_embed). */
  readonly tensor: (name: string) => tf.Tensor;
  /** What a method adds beside block `block`'s MLP, read from the pre-norm2 stream x; null: nothing. */
  readonly besideMlp: (block: number, x: tf.Tensor2D) => tf.Tensor2D | null;
}

export interface VitOutput {
  readonly logits: tf.Tensor2D;
  /** The head's input: the pooled, normed features, [n, width]. */
  readonly preLogits: tf.Tensor2D;
  /** The residual stream after each block, [n, tokens, width], prefix tokens first. */
  readonly blocks: readonly tf.Tensor3D[];
  /** Each block's attention probabilities [n·heads, tokens, tokens]. */
  readonly attention: readonly tf.Tensor3D[];
}

/** Block features as the first token (the class token), [n, width]. */
export const clsFeature = (block: tf.Tensor3D): tf.Tensor2D => {
  const [n, , w] = block.shape;
  return tf.reshape(tf.slice(block, [0, 0, 0], [n, 1, w]), [n, w]);
};

/** Block features as the mean of the patch tokens (timm's avg pooling, the `prefix` tokens excluded), [n, width]. */
export const meanFeature = (block: tf.Tensor3D, prefix: number): tf.Tensor2D => {
  const [n, t, w] = block.shape;
  return tf.mean(tf.slice(block, [0, prefix, 0], [n, t - prefix, w]), 1);
};

const norm = (access: VitAccess, name: string, x: tf.Tensor2D, eps: number) =>
  layerNorm(x, access.tensor(`${name}.weight`), access.tensor(`${name}.bias`), eps);

/** The prefix tokens (class, registers) broadcast over the batch, [n, prefix, width]; null when none. */
const prefix = (config: VitConfig, access: VitAccess, n: number): tf.Tensor3D | null => {
  const parts = [
    ...(config.classToken === false ? [] : [access.tensor("cls_token")]),
    ...((config.regTokens ?? 0) > 0 ? [access.tensor("reg_token")] : []),
  ].map((t) => tf.broadcastTo(t, [n, t.shape[1]!, config.width]) as tf.Tensor3D);
  return parts.length === 0 ? null : (tf.concat(parts, 1) as tf.Tensor3D);
};

/** timm's `_pos_embed`: prefix tokens, then patches; position embeddings on all, or on the patches alone (`noEmbedClass`). */
const embed = (config: VitConfig, access: VitAccess, patches: tf.Tensor3D): tf.Tensor3D => {
  const head = prefix(config, access, patches.shape[0]);
  const pos = access.tensor("pos_embed");
  if (config.noEmbedClass) {
    const placed = tf.add(patches, pos) as tf.Tensor3D;
    return head === null ? placed : tf.concat([head, placed], 1);
  }
  return tf.add(head === null ? patches : tf.concat([head, patches], 1), pos) as tf.Tensor3D;
};

/**
 * timm's VisionTransformer forward (pre-norm blocks; the options of `VitConfig`), on NHWC images.
 * `keep` ([n, 2·depth], from `dropPathKeep`) is stochastic depth in training: column 2i scales
 * image s's attention branch of block i, column 2i+1 its MLP branch (timm's DropPath: 0, or
 * 1/(1−p)); what a method adds beside the MLP is not dropped, as in AdaptFormer's code.
 */
export const vitForward = (config: VitConfig, access: VitAccess, images: tf.Tensor4D, keep?: tf.Tensor2D): VitOutput => {
  const n = images.shape[0];
  const t = tokens(config);
  const w = config.width;
  const eps = config.layerNormEps;
  const patches = tf.reshape(access.linear("patch_embed.proj", patchify(images, config.patch)), [n, patchesPerSide(config) ** 2, w]) as tf.Tensor3D;
  let x = tf.reshape(embed(config, access, patches), [n * t, w]) as tf.Tensor2D;
  if (config.preNorm) x = norm(access, "norm_pre", x, eps);
  const layerScaled = (y: tf.Tensor2D, gamma: string) => (config.layerScale ? (tf.mul(y, access.tensor(gamma)) as tf.Tensor2D) : y);
  // Image s's multiplier on each of its t token rows.
  const dropped = (y: tf.Tensor2D, column: number) =>
    keep === undefined
      ? y
      : (tf.mul(y, tf.reshape(tf.broadcastTo(tf.reshape(tf.slice(keep, [0, column], [n, 1]), [n, 1, 1]), [n, t, 1]), [n * t, 1])) as tf.Tensor2D);
  const scaled = (y: tf.Tensor2D, gamma: string, column: number) => dropped(layerScaled(y, gamma), column);
  const blocks: tf.Tensor3D[] = [];
  const weights: tf.Tensor3D[] = [];
  for (let i = 0; i < config.depth; i++) {
    const b = `blocks.${i}`;
    const qkv = access.linear(`${b}.attn.qkv`, norm(access, `${b}.norm1`, x, eps));
    const attended = attention(qkv, n, t, config.heads);
    weights.push(attended.weights);
    x = tf.add(x, scaled(access.linear(`${b}.attn.proj`, attended.output), `${b}.ls1.gamma`, 2 * i));
    const hidden = activation(config.gelu, access.linear(`${b}.mlp.fc1`, norm(access, `${b}.norm2`, x, eps)));
    const beside = [access.besideMlp(i, x)];
    // A merged AdaptFormer keeps its module: up(ReLU(down(x))), the scale already folded into up.
    if (mlpAdapterWidth(config, i) > 0) beside.push(access.linear(`${b}.adaptmlp.up_proj`, tf.relu(access.linear(`${b}.adaptmlp.down_proj`, x))));
    x = tf.addN([x, scaled(access.linear(`${b}.mlp.fc2`, hidden), `${b}.ls2.gamma`, 2 * i + 1), ...beside.filter((t) => t !== null)]);
    blocks.push(tf.reshape(x, [n, t, w]));
  }
  // timm: the final norm runs on every token before pooling, or on the pooled features as fc_norm.
  const fcNorm = usesFcNorm(config);
  const final = tf.reshape(fcNorm ? x : norm(access, "norm", x, eps), [n, t, w]) as tf.Tensor3D;
  const pooled = poolOf(config) === "token" ? clsFeature(final) : meanFeature(final, prefixTokens(config));
  const preLogits = fcNorm ? norm(access, "fc_norm", pooled, eps) : pooled;
  return { logits: config.classes === 0 ? preLogits : access.linear("head", preLogits), preLogits, blocks, attention: weights };
};
