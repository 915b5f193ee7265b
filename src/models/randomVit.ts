import { rng } from "../util/random.js";
import type { Backbone, HostTensor } from "./backbone.js";
import type { VitConfig } from "./vitConfig.js";
import { sizeOf, vitParams } from "./vitParams.js";

/**
 * A ViT with random weights at a scale where every layer matters (norm gains near 1, weights
 * ~ N(0, 1/fan_in)): the backbone of tests and laws, never an identity-like network.
 */
export const randomVit = (config: VitConfig, seed: number): Backbone => {
  const weights = new Map<string, HostTensor>();
  for (const p of vitParams(config)) {
    const r = rng(seed, p.name);
    const n = sizeOf(p.shape);
    const fanIn = p.shape.length >= 2 ? sizeOf(p.shape.slice(1)) : 1;
    const isNormWeight = /norm\d?\.weight$/.test(p.name);
    const std = isNormWeight ? 0.2 : p.name.endsWith(".bias") ? 0.1 : p.shape.length >= 2 && !/token|pos_embed/.test(p.name) ? 1 / Math.sqrt(fanIn) : 0.5;
    const data = Float32Array.from({ length: n }, () => (isNormWeight ? 1 : 0) + std * r.normal());
    weights.set(p.name, { shape: p.shape, data });
  }
  return { config, weights };
};
