import * as tf from "@tensorflow/tfjs-core";
import type { AdapterValue } from "../src/interpreters/adapterParams.js";
import type { Program } from "../src/interpreters/compile/program.js";
import { siteValues } from "../src/interpreters/adapterParams.js";
import type { HostTensor, Weights } from "../src/models/backbone.js";
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
export const randomAdapterValues = async (program: Program, weights: Weights, seed: number): Promise<Map<string, AdapterValue>> => {
  const state = await program.values();
  return new Map(
    program.params.map((p): [string, AdapterValue] => {
      if (!p.trainable) return [p.name, state.get(p.name)!];
      const r = rng(seed, `law:${p.name}`);
      const std = 0.5 / Math.sqrt(p.shape[p.shape.length - 1] ?? 1);
      const base = p.role === "value" ? siteValues(p.placement.site, weights) : undefined;
      return [p.name, Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, i) => (base ? base[i]! : 0) + std * r.normal())];
    }),
  );
};

/** Throw a LawViolation naming the worst element unless |a − b| ≤ atol + rtol·|b| everywhere. */
export const mustBeClose = (what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): void => {
  const worst = worstMismatch(actual, expected, tol);
  holds(
    worst === null,
    () => `${what}: element ${worst!.index} is ${worst!.actual}, expected ${worst!.expected} (allowed error ${worst!.allowed.toExponential(2)})`,
  );
};

/** `t` placed at the leading corner of a (larger) [rows, cols] shape, zeros elsewhere: how merge widens a kept module. */
const embedded = (t: HostTensor | undefined, shape: readonly number[]): Float32Array => {
  const rows = shape[0] ?? 1;
  const cols = shape.length > 1 ? shape[1]! : 1;
  const out = new Float32Array(rows * cols);
  if (!t) return out;
  const tc = t.shape.length > 1 ? t.shape[1]! : 1;
  for (let i = 0; i < (t.shape[0] ?? 1); i++) out.set(t.data.subarray(i * tc, (i + 1) * tc), i * cols);
  return out;
};

/**
 * The largest change of any weight entry from `b` to `a`. A module only `a` has counts against
 * zeros; a kept module that `a` widened (more bottleneck units) against `b`'s embedded in it.
 */
export const weightChange = (a: Weights, b: Weights): number => {
  let worst = 0;
  for (const [name, t] of a) {
    const before = b.get(name);
    worst = Math.max(worst, maxAbsDiff(t.data, before?.data.length === t.data.length ? before.data : embedded(before, t.shape)));
  }
  return worst;
};
