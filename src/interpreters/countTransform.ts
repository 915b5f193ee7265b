import type { WeightTransform } from "../dsl/transform.js";
import { isPrimitive, primitiveOf } from "../primitives/registry.js";
import type { Site } from "../models/vitParams.js";

/** Trainable scalars a transform adds at a site, in closed form (no tensors). */
export const countTransform = (t: WeightTransform, site: Site): number => {
  if (isPrimitive(t)) return primitiveOf(t).count(t, site);
  switch (t._tag) {
    case "Frozen":
      return 0;
    case "Sum":
      return t.terms.reduce((n, x) => n + countTransform(x, site), 0);
    case "Permuted":
    case "Quantized":
      return countTransform(t.inner, site);
  }
};
