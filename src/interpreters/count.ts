import type { WeightTransform } from "../dsl/transform.js";
import type { Method } from "../dsl/method.js";
import { showSelector } from "../dsl/selector.js";
import { showTransform } from "../dsl/transform.js";
import type { VitConfig } from "../models/vitConfig.js";
import { sizeOf, totalParams, type Site } from "../models/vitParams.js";
import { resolveMethod } from "./resolve.js";

/** Trainable scalars a transform adds at a site, in closed form (no tensors). */
export const countTransform = (t: WeightTransform, site: Site): number => {
  switch (t._tag) {
    case "LowRank": return t.rank * (site.shape[0]! + site.shape[1]!);
    case "Full": return sizeOf(site.shape);
    case "Frozen": return 0;
    case "Sum": return t.terms.reduce((n, x) => n + countTransform(x, site), 0);
    case "Spectral": return t.coefficients;
    case "Rescale": return site.shape[0]! + site.shape[1]!;
    case "ScaleShift": return 2 * site.shape[0]!;
    // down [b, width] and up [width, b] (+ their biases); the site is mlp.fc1.weight [hidden, width].
    case "ParallelAdapter": return 2 * t.bottleneck * site.shape[1]! + (t.bias ? t.bottleneck + site.shape[1]! : 0);
    case "Permuted":
    case "Quantized": return countTransform(t.inner, site);
  }
};

export interface TargetCount {
  readonly target: number;
  readonly description: string;
  readonly sites: number;
  readonly trainable: number;
}

export interface CountReport {
  readonly targets: readonly TargetCount[];
  readonly trainable: number;
  /** Trained only to shape the objective and dropped afterwards (RIFT's Q: d(d−1)/2 free values); not in `trainable`. */
  readonly auxiliary: number;
  readonly backbone: number;
  /** trainable / backbone × 100. */
  readonly percent: number;
}

export const countMethod = (m: Method, config: VitConfig): CountReport => {
  const placements = resolveMethod(m, config);
  const targets = m.targets.map((tg, i): TargetCount => {
    const mine = placements.filter((p) => p.target === i);
    return {
      target: i,
      description: `${showTransform(tg.transform)} on ${showSelector(tg.select)}`,
      sites: mine.length,
      trainable: mine.reduce((n, p) => n + countTransform(p.transform, p.site), 0),
    };
  });
  const trainable = targets.reduce((n, t) => n + t.trainable, 0);
  const backbone = totalParams(config);
  const auxiliary = m.losses.reduce((n, l) => n + (l._tag === "Rift" && l.rotation === "learned" ? (config.width * (config.width - 1)) / 2 : 0), 0);
  return { targets, trainable, auxiliary, backbone, percent: (100 * trainable) / backbone };
};
