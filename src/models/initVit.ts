import { rng, type Rng } from "../util/random.js";
import type { Backbone, HostTensor } from "./backbone.js";
import type { VitConfig } from "./vitConfig.js";
import { sizeOf, vitParams } from "./vitParams.js";

/** N(0, std²) truncated to ±2·std, as timm's trunc_normal_ (by rejection). */
const truncNormal = (r: Rng, std: number): number => {
  for (;;) {
    const z = r.normal();
    if (Math.abs(z) <= 2) return z * std;
  }
};

/**
 * timm's initialisation for training a ViT from scratch: linear weights and the position
 * embedding ~ trunc-normal(0.02), CLS token ~ N(0, 1e-6), LayerNorm weight 1, biases 0.
 */
export const initVit = (config: VitConfig, seed: number): Backbone => {
  const weights = new Map<string, HostTensor>();
  for (const p of vitParams(config)) {
    const r = rng(seed, `init:${p.name}`);
    const n = sizeOf(p.shape);
    let data: Float32Array;
    if (/norm\d?\.weight$/.test(p.name)) data = new Float32Array(n).fill(1);
    else if (p.name.endsWith(".bias")) data = new Float32Array(n);
    else if (p.name === "cls_token") data = Float32Array.from({ length: n }, () => 1e-6 * r.normal());
    else data = Float32Array.from({ length: n }, () => truncNormal(r, 0.02));
    weights.set(p.name, { shape: p.shape, data });
  }
  return { config, weights };
};
