import * as tf from "@tensorflow/tfjs-core";
import { layerIndices, type LossTerm } from "../../dsl/loss.js";
import { prefixTokens, type VitConfig } from "../../models/vitConfig.js";
import { clsFeature, meanFeature, type VitOutput } from "../../models/vit.js";
import { orthogonalOf, readSquaringsAhead } from "../../ops/orthogonalExp.js";
import { batchMoments, riftDistance } from "../../ops/riftDistance.js";
import { gramDistance, linearCka, rowNormalise } from "../../ops/similarity.js";
import { stopGradient } from "../../ops/stopGradient.js";

/** A tensor a loss term owns (RIFT's rotation and pretrained statistics). Trained only if `trainable`. */
export interface LossParam {
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

export const lossParamName = (index: number, path: "rotation" | "mean" | "covariance"): string => `losses[${index}].${path}`;

/** RIFT's tensors: M of Q = exp(M − Mᵀ) (zeros: Q = I), and μ_p, Σ_p, zeros until `featureStatistics` sets them. */
export const lossParams = (losses: readonly LossTerm[], config: VitConfig): LossParam[] =>
  losses.flatMap((l, i): LossParam[] => {
    if (l._tag !== "Rift") return [];
    const d = config.width;
    return [
      ...(l.rotation === "learned" ? [{ name: lossParamName(i, "rotation"), shape: [d, d], trainable: true }] : []),
      { name: lossParamName(i, "mean"), shape: [1, d], trainable: false },
      { name: lossParamName(i, "covariance"), shape: [d, d], trainable: false },
    ];
  });

/** What a term reads besides the adapted forward pass. */
export interface LossContext {
  readonly config: VitConfig;
  readonly lookup: (name: string) => tf.Tensor;
  /** The pretrained model on the same images (no gradient reaches anything). */
  readonly pretrained: (images: tf.Tensor4D) => VitOutput;
  /** ‖W' − W₀‖²_F of every adapted backbone tensor, summed. */
  readonly drift: () => tf.Scalar;
}

/** Host reads the loss terms need before a forward pass (RIFT's squarings of its learned rotation), done asynchronously. */
export const readLossTermsAhead = async (losses: readonly LossTerm[], lookup: (name: string) => tf.Tensor): Promise<void> => {
  await Promise.all(
    losses.flatMap((l, i) => (l._tag === "Rift" && l.rotation === "learned" ? [readSquaringsAhead(lookup(lossParamName(i, "rotation")) as tf.Tensor2D)] : [])),
  );
};

/** The unweighted value of loss term `index` on a batch (call inside tf.tidy). */
export const lossTermValue = (term: LossTerm, index: number, out: VitOutput, images: tf.Tensor4D, ctx: LossContext): tf.Scalar => {
  switch (term._tag) {
    case "Baft": {
      // Eq. 2: mean over layers of ‖S_z⁽ˡ⁾ − S_p‖²_F, S the cosine-similarity matrices of the batch.
      const probs = tf.softmax(out.logits) as tf.Tensor2D;
      const p = rowNormalise(term.detachPredictions ? (stopGradient(probs) as tf.Tensor2D) : probs);
      const pool = term.pool === "cls" ? clsFeature : (block: tf.Tensor3D) => meanFeature(block, prefixTokens(ctx.config));
      const layers = layerIndices(term.layers, ctx.config.depth);
      const distances = layers.map((l) => gramDistance(rowNormalise(pool(out.blocks[l]!)), p));
      return tf.div(tf.addN(distances), layers.length);
    }
    case "Rift":
      return riftDistance(
        batchMoments(out.preLogits),
        { mean: ctx.lookup(lossParamName(index, "mean")) as tf.Tensor2D, covariance: ctx.lookup(lossParamName(index, "covariance")) as tf.Tensor2D },
        term.rotation === "identity" ? tf.eye(ctx.config.width) : orthogonalOf(ctx.lookup(lossParamName(index, "rotation")) as tf.Tensor2D),
        term.mean,
        term.normalised,
      );
    case "Rsc":
      return tf.sub(1, linearCka(out.preLogits, ctx.pretrained(images).preLogits));
    case "L2SP":
      return ctx.drift();
  }
};
