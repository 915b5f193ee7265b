import type { WeightTransform } from "../dsl/transform.js";
import { sizeOf, type Site } from "../models/vitParams.js";

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
