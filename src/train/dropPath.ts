import { rng } from "../util/random.js";

/** timm's linear rule: block i of `depth` drops its branches with probability rate · i / (depth − 1). */
export const dropPathRates = (rate: number, depth: number): number[] => Array.from({ length: depth }, (_, i) => (depth === 1 ? 0 : (rate * i) / (depth - 1)));

/**
 * Stochastic depth's multipliers for a batch of n, [n, 2·depth] row-major: image s keeps block
 * i's attention (column 2i) and MLP (column 2i+1) branch with probability 1 − p_i, scaled by
 * 1/(1 − p_i) when kept (timm's DropPath, scale_by_keep), 0 when dropped. Drawn from
 * (seed, step), so a resumed run drops exactly what an uninterrupted one would.
 */
export const dropPathKeep = (rate: number, depth: number, n: number, seed: number, step: number): Float32Array => {
  const rates = dropPathRates(rate, depth);
  const r = rng(seed, `drop-path:${step}`);
  const keep = new Float32Array(n * 2 * depth);
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < 2 * depth; j++) {
      const p = rates[j >> 1]!;
      keep[s * 2 * depth + j] = r.uniform() < p ? 0 : 1 / (1 - p);
    }
  }
  return keep;
};
