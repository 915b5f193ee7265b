import * as tf from "@tensorflow/tfjs-core";
import type { Backbone, HostTensor } from "../models/backbone.js";
import { mlpAdapterWidth, type VitConfig } from "../models/vitConfig.js";
import { vitParams } from "../models/vitParams.js";
import { readHost } from "../util/hostRead.js";
import type { Program } from "./compile/program.js";

/**
 * The merged backbone: every weight transform folded into plain weights under timm's names and
 * shapes. Modules (AdaptFormer's adapters) cannot fold into weights; they are kept as one
 * parallel adapter per block whose bottleneck is the concatenation of the kept and the added
 * ones — Σ s_k·up_k ReLU(down_k x) = [s_1 up_1 … s_m up_m] ReLU([down_1; …; down_m] x), exactly.
 */
export const mergedBackbone = (program: Program): Backbone => {
  const c = program.config;
  const weights = new Map<string, HostTensor>();
  for (const spec of vitParams(c)) {
    if (spec.name.includes(".adaptmlp.")) continue;
    weights.set(spec.name, { shape: spec.shape, data: readHost(() => program.materialise(spec.name)) });
  }
  const widths = Array.from({ length: c.depth }, (_, i) => {
    const b = `blocks.${i}.adaptmlp`;
    const parts = () => {
      const kept = mlpAdapterWidth(c, i) === 0 ? [] : [{
        down: program.materialise(`${b}.down_proj.weight`), downBias: program.materialise(`${b}.down_proj.bias`),
        up: program.materialise(`${b}.up_proj.weight`), upBias: program.materialise(`${b}.up_proj.bias`),
      }];
      return [...kept, ...program.modulesBeside(i)];
    };
    const count = tf.tidy(() => parts().length);
    if (count === 0) return 0;
    const down = { data: readHost(() => tf.concat(parts().map((p) => p.down), 0)) };
    const width = down.data.length / c.width;
    weights.set(`${b}.down_proj.weight`, { shape: [width, c.width], ...down });
    weights.set(`${b}.down_proj.bias`, { shape: [width], data: readHost(() => tf.concat(parts().map((p) => p.downBias), 0)) });
    weights.set(`${b}.up_proj.weight`, { shape: [c.width, width], data: readHost(() => tf.concat(parts().map((p) => p.up), 1)) });
    weights.set(`${b}.up_proj.bias`, { shape: [c.width], data: readHost(() => tf.addN(parts().map((p) => p.upBias))) });
    return width;
  });
  const config: VitConfig = widths.some((w) => w > 0) ? { ...c, mlpAdapters: widths } : withoutAdapters(c);
  // Keep timm's parameter order for the written file.
  const ordered = new Map(vitParams(config).map((p) => [p.name, weights.get(p.name)!]));
  return { config, weights: ordered };
};

const withoutAdapters = (c: VitConfig): VitConfig => {
  const { mlpAdapters: _, ...rest } = c;
  return rest;
};
