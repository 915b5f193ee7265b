import type { Rng } from "./random.js";

/**
 * `count` distinct indices drawn without replacement with probability ∝ weight (Efraimidis and
 * Spirakis: keep the largest keys u^{1/w}, compared as log(u)/w); when fewer weights are
 * positive, the rest are drawn uniformly from the zero-weight indices. Ascending.
 */
export const weightedDistinct = (weights: ArrayLike<number>, count: number, r: Rng): Int32Array => {
  if (count > weights.length) throw new RangeError(`cannot draw ${count} distinct indices from ${weights.length}`);
  const keyed = Array.from({ length: weights.length }, (_, i) => {
    const w = weights[i]!;
    return { i, key: w > 0 ? Math.log(r.uniform()) / w : -Infinity, tie: r.uniform() };
  });
  keyed.sort((a, b) => (b.key === a.key ? a.tie - b.tie : b.key - a.key));
  return Int32Array.from(keyed.slice(0, count).map((k) => k.i)).sort();
};
