import * as tf from "@tensorflow/tfjs-core";
import type { AdapterValue } from "../src/interpreters/adapterParams.js";
import type { Program } from "../src/interpreters/compile/program.js";
import { siteValues } from "../src/interpreters/adapterParams.js";
import type { Weights } from "../src/models/backbone.js";
import type { VitConfig } from "../src/models/vitConfig.js";
import { rng } from "../src/util/random.js";
import { maxAbsDiff, worstMismatch, type Tolerance } from "../src/util/tolerance.js";
import { holds } from "./violation.js";

/** Random NHWC images (standard normal pixels), as host data. */
export const randomImages = (config: VitConfig, n: number, seed: number): Float32Array => {
  const r = rng(seed, "images");
  return Float32Array.from({ length: n * config.image * config.image * config.channels }, () => r.normal());
};

export const imagesTensor = (config: VitConfig, data: Float32Array): tf.Tensor4D =>
  tf.tensor4d(data, [data.length / (config.image * config.image * config.channels), config.image, config.image, config.channels]);

/**
 * Random, non-identity adapter values: every trainable tensor gets noise (LoRA's B included, so
 * ΔW ≠ 0), `full` values are the pretrained value plus noise; state (spectral positions) keeps
 * the program's. Merge laws checked at init would pass trivially.
 */
export const randomAdapterValues = (program: Program, weights: Weights, seed: number): Map<string, AdapterValue> => {
  const state = program.values();
  return new Map(program.params.map((p): [string, AdapterValue] => {
    if (!p.trainable) return [p.name, state.get(p.name)!];
    const r = rng(seed, `law:${p.name}`);
    const std = 0.5 / Math.sqrt(p.shape[p.shape.length - 1] ?? 1);
    const base = p.role === "value" ? siteValues(p.placement.site, weights) : undefined;
    return [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, i) => (base ? base[i]! : 0) + std * r.normal())];
  }));
};

/** Throw a LawViolation naming the worst element unless |a − b| ≤ atol + rtol·|b| everywhere. */
export const mustBeClose = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): void => {
  const worst = worstMismatch(actual, expected, tol);
  holds(worst === null, () => `${what}: element ${worst!.index} is ${worst!.actual}, expected ${worst!.expected} (allowed error ${worst!.allowed.toExponential(2)})`);
};

/** The largest change of any weight entry between two backbones of one config. */
export const weightChange = (a: Weights, b: Weights): number => {
  let worst = 0;
  for (const [name, t] of a) worst = Math.max(worst, maxAbsDiff(t.data, b.get(name)!.data));
  return worst;
};
