import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { literalOf, nonNegative, struct, withDefault } from "../util/codecKit.js";
import { clsFeature, meanFeature } from "../models/vit.js";
import { prefixTokens, tokens } from "../models/vitConfig.js";
import { gramDistance, rowNormalise } from "../ops/similarity.js";
import { stopGradient } from "../ops/stopGradient.js";
import { cosineGram64, frobenius2 } from "./float64.js";
import type { LossTermKind } from "./lossTerm.js";

/** Which block features a term reads: the CLS token (BAFT's paper) or the patch-token mean (its scripts). */
export type FeaturePool = "cls" | "mean";

/** Which blocks: every one, the first three, the last three, or an explicit list of block indices. */
export type Layers = "all" | "early" | "late" | readonly number[];

/**
 * BAFT (Eq. 2): (1/|layers|) Σ_l ‖S_z⁽ˡ⁾ − S_p‖²_F with S the cosine-similarity matrices of the
 * batch's block features and softmax predictions. `detachPredictions` stops the gradient
 * through S_p (the paper's A.9 suggestion; the paper itself does not detach).
 */
export interface Baft {
  readonly _tag: "Baft";
  readonly weight: number;
  readonly pool: FeaturePool;
  readonly layers: Layers;
  readonly detachPredictions: boolean;
}

export const baftTerm = (
  o: { readonly weight?: number; readonly pool?: FeaturePool; readonly layers?: Layers; readonly detachPredictions?: boolean } = {},
): Baft => ({
  _tag: "Baft",
  weight: o.weight ?? 0.01,
  pool: o.pool ?? "cls",
  layers: o.layers ?? "all",
  detachPredictions: o.detachPredictions ?? false,
});

/** The block indices a `Layers` choice names in a model of `depth` blocks. */
export const layerIndices = (layers: Layers, depth: number): number[] => {
  const all = Array.from({ length: depth }, (_, i) => i);
  if (layers === "all") return all;
  if (layers === "early") return all.slice(0, 3);
  if (layers === "late") return all.slice(-3);
  return [...layers];
};

const layerChoices = ["all", "early", "late"] as const;
const LayersCodec: t.Type<Layers> = new t.Type<Layers>(
  'layers ("all" | "early" | "late" | block indices)',
  (u): u is Layers =>
    (typeof u === "string" && (layerChoices as readonly string[]).includes(u)) || (Array.isArray(u) && u.every((b) => Number.isInteger(b) && b >= 0)),
  (u, c) => (LayersCodec.is(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
);

/** Block features [n, width] from the reference residual stream: CLS token or patch-token mean. */
const pooled64 = (block: Float64Array, n: number, tokens: number, prefix: number, width: number, pool: FeaturePool): Float64Array => {
  const out = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < width; k++) {
      if (pool === "cls") out[i * width + k] = block[i * tokens * width + k]!;
      else {
        let s = 0;
        for (let t = prefix; t < tokens; t++) s += block[(i * tokens + t) * width + k]!;
        out[i * width + k] = s / (tokens - prefix);
      }
    }
  }
  return out;
};

const softmaxRows64 = (logits: Float64Array, n: number, k: number): Float64Array => {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * k, (i + 1) * k);
    const max = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (out[i * k + j] = v / sum));
  }
  return out;
};

export const baftKind: LossTermKind<Baft> = {
  tag: "Baft",
  codec: struct("Baft", {
    _tag: t.literal("Baft"),
    weight: withDefault(nonNegative, 0.01),
    pool: withDefault(literalOf("pool", ["cls", "mean"]), "cls"),
    layers: withDefault(LayersCodec, "all"),
    detachPredictions: withDefault(t.boolean, false),
  }),
  show: (l) =>
    `baft(λ ${l.weight}, ${l.pool} features, layers ${Array.isArray(l.layers) ? `[${l.layers.join(", ")}]` : l.layers}${l.detachPredictions ? ", predictions detached" : ""})`,
  formula: (l, config) =>
    `+ ${l.weight}·(1/|L|) Σ_{l ∈ L} ‖cos(Z_l) − cos(${l.detachPredictions ? "sg(P)" : "P"})‖²_F, L = blocks [${layerIndices(l.layers, config.depth).join(", ")}], Z_l the ${l.pool === "cls" ? "CLS token" : "patch-token mean"}, P = softmax(logits)`,
  // Its layers must exist in the backbone.
  check: (l, config) => {
    const layers = layerIndices(l.layers, config.depth);
    const bad = layers.find((b) => b >= config.depth);
    if (bad !== undefined) return { field: "layers", reason: `block ${bad} does not exist: the backbone has blocks 0..${config.depth - 1}` };
    return layers.length === 0 ? { field: "layers", reason: "expected at least one block" } : null;
  },
  // Eq. 2: mean over layers of ‖S_z⁽ˡ⁾ − S_p‖²_F, S the cosine-similarity matrices of the batch.
  value: (l, _, out, __, ctx) => {
    const probs = tf.softmax(out.logits) as tf.Tensor2D;
    const p = rowNormalise(l.detachPredictions ? (stopGradient(probs) as tf.Tensor2D) : probs);
    const pool = l.pool === "cls" ? clsFeature : (block: tf.Tensor3D) => meanFeature(block, prefixTokens(ctx.config));
    const layers = layerIndices(l.layers, ctx.config.depth);
    const distances = layers.map((b) => gramDistance(rowNormalise(pool(out.blocks[b]!)), p));
    return tf.div(tf.addN(distances), layers.length);
  },
  value64: (l, _, { config, n, out }) => {
    const sp = cosineGram64(softmaxRows64(out.logits, n, config.classes), n, config.classes);
    const layers = layerIndices(l.layers, config.depth);
    const features = (b: number) => pooled64(out.blocks[b]!, n, tokens(config), prefixTokens(config), config.width, l.pool);
    return layers.reduce((s, b) => s + frobenius2(cosineGram64(features(b), n, config.width), sp), 0) / layers.length;
  },
  wholeBatch: true,
  arbitrary: fc.record({
    _tag: fc.constant("Baft" as const),
    weight: fc.constantFrom(0, 0.01, 1),
    pool: fc.constantFrom("cls" as const, "mean" as const),
    layers: fc.constantFrom<Layers>("all", "early", "late", [0]),
    detachPredictions: fc.boolean(),
  }),
};
