import { method, type Method } from "../src/dsl/method.js";
import type { AdapterValue } from "../src/interpreters/adapterParams.js";
import type { Program } from "../src/interpreters/compile/program.js";
import { referenceForward } from "../src/interpreters/reference/forward.js";
import { lossKindOf } from "../src/losses/registry.js";
import type { Context64 } from "../src/losses/lossTerm.js";
import { adaptedWeights64 } from "../src/interpreters/reference/adapt64.js";
import type { Backbone } from "../src/models/backbone.js";
import { rng } from "../src/util/random.js";

/**
 * Random values for the tensors loss terms own: RIFT's M (so Q ≠ I), and pretrained statistics
 * with a random mean and a random positive-definite covariance C Cᵀ/d + I/10.
 */
export const randomLossValues = (program: Program, seed: number): Map<string, AdapterValue> =>
  new Map(
    program.lossParams.map((p): [string, AdapterValue] => {
      const r = rng(seed, `law:${p.name}`);
      const d = p.shape[1]!;
      if (!p.name.endsWith(".covariance")) return [p.name, Float32Array.from({ length: p.shape[0]! * d }, () => 0.4 * r.normal())];
      const c = Array.from({ length: d * d }, () => r.normal());
      return [
        p.name,
        Float32Array.from({ length: d * d }, (_, k) => {
          const [i, j] = [Math.floor(k / d), k % d];
          let s = 0;
          for (let a = 0; a < d; a++) s += c[i * d + a]! * c[j * d + a]!;
          return s / d + (i === j ? 0.1 : 0);
        }),
      ];
    }),
  );

/** Every loss term of `m` in float64, from the reference forward and each term's own float64 definition. */
export const referenceLossTerms = (m: Method, backbone: Backbone, values: ReadonlyMap<string, AdapterValue>, images: Float64Array, n: number): number[] => {
  const config = backbone.config;
  const out = referenceForward(m, backbone, values, images, n);
  const ctx: Context64 = {
    config,
    n,
    out,
    pretrained: () => referenceForward(method({}), backbone, new Map(), images, n),
    drift: () => {
      let s = 0;
      for (const [name, w] of adaptedWeights64(m, config, backbone.weights, values)) {
        const w0 = backbone.weights.get(name)!.data;
        for (let k = 0; k < w.length; k++) s += (w[k]! - w0[k]!) ** 2;
      }
      return s;
    },
    value: (name) => values.get(name)!,
  };
  return m.losses.map((term, i) => lossKindOf(term).value64(term, i, ctx));
};
