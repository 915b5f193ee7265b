import * as tf from "@tensorflow/tfjs-core";
import { attention } from "../ops/attention.js";
import { gelu } from "../ops/gelu.js";
import { layerNorm } from "../ops/layerNorm.js";
import { patchify } from "../ops/patchify.js";
import { mlpAdapterWidth, tokens, type VitConfig } from "./vitConfig.js";

/**
 * How the forward pass reaches its weights. The model is data plus this function; whoever
 * supplies the access (a compiled Method, a merged checkpoint) decides how each linear runs.
 */
export interface VitAccess {
  /** y = x W'ᵀ + b' for the linear whose parameters are `${module}.weight` and `${module}.bias`. */
  readonly linear: (module: string, x: tf.Tensor2D) => tf.Tensor2D;
  /** The effective value of any other parameter (norms, cls_token, pos_embed). */
  readonly tensor: (name: string) => tf.Tensor;
  /** What a method adds beside block `block`'s MLP, read from the pre-norm2 stream x; null: nothing. */
  readonly besideMlp: (block: number, x: tf.Tensor2D) => tf.Tensor2D | null;
}

export interface VitOutput {
  readonly logits: tf.Tensor2D;
  /** The head's input: the final-norm CLS token, [n, width]. */
  readonly preLogits: tf.Tensor2D;
  /** The residual stream after each block, [n, tokens, width], CLS token first. */
  readonly blocks: readonly tf.Tensor3D[];
  /** Each block's attention probabilities [n·heads, tokens, tokens]. */
  readonly attention: readonly tf.Tensor3D[];
}

/** Block features as the CLS token, [n, width]. */
export const clsFeature = (block: tf.Tensor3D): tf.Tensor2D => {
  const [n, , w] = block.shape;
  return tf.reshape(tf.slice(block, [0, 0, 0], [n, 1, w]), [n, w]);
};

/** Block features as the mean of the patch tokens (timm's avg pooling, CLS excluded), [n, width]. */
export const meanFeature = (block: tf.Tensor3D): tf.Tensor2D => {
  const [n, t, w] = block.shape;
  return tf.mean(tf.slice(block, [0, 1, 0], [n, t - 1, w]), 1);
};

const norm = (access: VitAccess, name: string, x: tf.Tensor2D, eps: number) =>
  layerNorm(x, access.tensor(`${name}.weight`), access.tensor(`${name}.bias`), eps);

/** timm's VisionTransformer forward (pre-norm blocks, CLS pooling), on NHWC images. */
export const vitForward = (config: VitConfig, access: VitAccess, images: tf.Tensor4D): VitOutput => {
  const n = images.shape[0];
  const t = tokens(config);
  const w = config.width;
  const eps = config.layerNormEps;
  const patches = tf.reshape(access.linear("patch_embed.proj", patchify(images, config.patch)), [n, t - 1, w]);
  const cls = tf.broadcastTo(access.tensor("cls_token"), [n, 1, w]);
  let x = tf.reshape(tf.add(tf.concat([cls, patches], 1), access.tensor("pos_embed")), [n * t, w]) as tf.Tensor2D;
  const blocks: tf.Tensor3D[] = [];
  const weights: tf.Tensor3D[] = [];
  for (let i = 0; i < config.depth; i++) {
    const b = `blocks.${i}`;
    const qkv = access.linear(`${b}.attn.qkv`, norm(access, `${b}.norm1`, x, eps));
    const attended = attention(qkv, n, t, config.heads);
    weights.push(attended.weights);
    x = tf.add(x, access.linear(`${b}.attn.proj`, attended.output));
    const hidden = gelu(access.linear(`${b}.mlp.fc1`, norm(access, `${b}.norm2`, x, eps)));
    const beside = [access.besideMlp(i, x)];
    // A merged AdaptFormer keeps its module: up(ReLU(down(x))), the scale already folded into up.
    if (mlpAdapterWidth(config, i) > 0) beside.push(access.linear(`${b}.adaptmlp.up_proj`, tf.relu(access.linear(`${b}.adaptmlp.down_proj`, x))));
    x = tf.addN([x, access.linear(`${b}.mlp.fc2`, hidden), ...beside.filter((t) => t !== null)]);
    blocks.push(tf.reshape(x, [n, t, w]));
  }
  const final = tf.reshape(norm(access, "norm", x, eps), [n, t, w]) as tf.Tensor3D;
  const preLogits = clsFeature(final);
  return { logits: access.linear("head", preLogits), preLogits, blocks, attention: weights };
};
