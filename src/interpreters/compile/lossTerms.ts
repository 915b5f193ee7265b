import type * as tf from "@tensorflow/tfjs-core";
import type { LossTerm } from "../../dsl/loss.js";
import type { VitConfig } from "../../models/vitConfig.js";
import type { VitOutput } from "../../models/vit.js";
import { lossKindOf } from "../../losses/registry.js";
import type { LossContext, LossParam } from "../../losses/lossTerm.js";

export { lossParamName, type LossContext, type LossParam } from "../../losses/lossTerm.js";

/** Every tensor the method's loss terms own (RIFT's rotation and statistics). */
export const lossParams = (losses: readonly LossTerm[], config: VitConfig): LossParam[] => losses.flatMap((l, i) => lossKindOf(l).params?.(l, i, config) ?? []);

/** Host reads the loss terms need before a forward pass (RIFT's squarings of its learned rotation), done asynchronously. */
export const readLossTermsAhead = async (losses: readonly LossTerm[], lookup: (name: string) => tf.Tensor): Promise<void> => {
  await Promise.all(losses.map((l, i) => lossKindOf(l).readAhead?.(l, i, lookup)));
};

/** The unweighted value of loss term `index` on a batch (call inside tf.tidy). */
export const lossTermValue = (term: LossTerm, index: number, out: VitOutput, images: tf.Tensor4D, ctx: LossContext): tf.Scalar =>
  lossKindOf(term).value(term, index, out, images, ctx);
