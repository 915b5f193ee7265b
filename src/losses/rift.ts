import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { literalOf, nonNegative, struct, withDefault } from "../util/codecKit.js";
import { orthogonalOf, readSquaringsAhead } from "../ops/orthogonalExp.js";
import { batchMoments, riftDistance } from "../ops/riftDistance.js";
import { expSkew64, moments64, rift64 } from "./float64.js";
import { lossParamName, type LossTermKind } from "./lossTerm.js";

/**
 * RIFT: ‖Σ_z − s² QᵀΣ_p Q‖²_F on the head's input features Z, with the pretrained statistics
 * μ_p, Σ_p set by a `once(featureStatistics())` rule, Q = exp(M − Mᵀ) orthogonal (identity at
 * init; "identity" keeps it fixed, the paper's ablation) and s² = tr Σ_z / tr Σ_p.
 * `mean` adds RIFT*'s ‖μ_z − s Qᵀμ_p‖². `normalised` divides by (tr Σ_z)² (the mean term by
 * tr Σ_z): ‖Σ_z/tr Σ_z − QᵀΣ_pQ/tr Σ_p‖²_F. Unnormalised, the term scales as ‖z‖⁴ and is
 * minimised by shrinking the features to zero, which we measured collapsing full fine-tuning.
 */
export interface Rift {
  readonly _tag: "Rift";
  readonly weight: number;
  readonly rotation: "learned" | "identity";
  readonly mean: boolean;
  readonly normalised: boolean;
}

export const riftTerm = (
  o: { readonly weight?: number; readonly rotation?: "learned" | "identity"; readonly mean?: boolean; readonly normalised?: boolean } = {},
): Rift => ({
  _tag: "Rift",
  weight: o.weight ?? 1,
  rotation: o.rotation ?? "learned",
  mean: o.mean ?? false,
  normalised: o.normalised ?? true,
});

export const riftKind: LossTermKind<Rift> = {
  tag: "Rift",
  codec: struct("Rift", {
    _tag: t.literal("Rift"),
    weight: withDefault(nonNegative, 1),
    rotation: withDefault(literalOf("rotation", ["learned", "identity"]), "learned"),
    mean: withDefault(t.boolean, false),
    normalised: withDefault(t.boolean, true),
  }),
  show: (l) => `${l.mean ? "rift*" : "rift"}(λ ${l.weight}, Q ${l.rotation}${l.normalised ? "" : ", unnormalised"})`,
  formula: (l, config) =>
    `+ ${l.weight}·(‖Σ_z − s² QᵀΣ_p Q‖²_F${l.normalised ? " / (tr Σ_z)²" : ""}${l.mean ? ` + ‖μ_z − s Qᵀμ_p‖²${l.normalised ? " / tr Σ_z" : ""}` : ""}), s² = tr Σ_z / tr Σ_p, ${l.rotation === "learned" ? `Q = exp(M − Mᵀ), M ∈ ℝ^{${config.width}×${config.width}} trained` : "Q = I"}; μ_p, Σ_p from the pretrained model over the training set`,
  // M of Q = exp(M − Mᵀ) (zeros: Q = I), and μ_p, Σ_p, zeros until `featureStatistics` sets them.
  params: (l, i, config) => {
    const d = config.width;
    return [
      ...(l.rotation === "learned" ? [{ name: lossParamName(i, "rotation"), shape: [d, d], trainable: true }] : []),
      { name: lossParamName(i, "mean"), shape: [1, d], trainable: false },
      { name: lossParamName(i, "covariance"), shape: [d, d], trainable: false },
    ];
  },
  // Q's free values: d(d − 1)/2.
  auxiliary: (l, config) => (l.rotation === "learned" ? (config.width * (config.width - 1)) / 2 : 0),
  readAhead: async (l, i, lookup) => {
    if (l.rotation === "learned") await readSquaringsAhead(lookup(lossParamName(i, "rotation")) as tf.Tensor2D);
  },
  value: (l, i, out, _, ctx) =>
    riftDistance(
      batchMoments(out.preLogits),
      { mean: ctx.lookup(lossParamName(i, "mean")) as tf.Tensor2D, covariance: ctx.lookup(lossParamName(i, "covariance")) as tf.Tensor2D },
      l.rotation === "identity" ? tf.eye(ctx.config.width) : orthogonalOf(ctx.lookup(lossParamName(i, "rotation")) as tf.Tensor2D),
      l.mean,
      l.normalised,
    ),
  value64: (l, i, { config, n, out, value }) => {
    const d = config.width;
    const q =
      l.rotation === "learned"
        ? expSkew64(value(lossParamName(i, "rotation")), d)
        : Float64Array.from({ length: d * d }, (_, k) => (k % (d + 1) === 0 ? 1 : 0));
    return rift64(
      moments64(out.preLogits, n, d),
      { mean: value(lossParamName(i, "mean")), covariance: value(lossParamName(i, "covariance")) },
      q,
      d,
      l.mean,
      l.normalised,
    );
  },
  wholeBatch: true,
  needsRule: {
    action: "FeatureStatistics",
    missing: "RIFT compares with the pretrained feature statistics: add the rule once(featureStatistics()) to `rules`",
  },
  arbitrary: fc.record({
    _tag: fc.constant("Rift" as const),
    weight: fc.constantFrom(0, 1),
    rotation: fc.constantFrom("learned" as const, "identity" as const),
    mean: fc.boolean(),
    normalised: fc.boolean(),
  }),
};
