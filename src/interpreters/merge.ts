import * as tf from "@tensorflow/tfjs-core";
import type { Backbone, HostTensor } from "../models/backbone.js";
import { mlpAdapterWidth, type VitConfig } from "../models/vitConfig.js";
import { vitParams } from "../models/vitParams.js";
import { downloadHost, hostCopy } from "../util/hostRead.js";
import type { Program } from "./compile/program.js";
import type { FoldedModule } from "./compile/placedLeaf.js";

/**
 * The merged backbone: every weight transform folded into plain weights under timm's names and
 * shapes. Modules (AdaptFormer's adapters) cannot fold into weights; they are kept as one
 * parallel adapter per block whose bottleneck is the concatenation of the kept and the added
 * ones — Σ s_k·up_k ReLU(down_k x) = [s_1 up_1 … s_m up_m] ReLU([down_1; …; down_m] x), exactly.
 */
export const mergedBackbone = async (program: Program): Promise<Backbone> => {
  const c = program.config;
  const weights = new Map<string, HostTensor>();
  for (const spec of vitParams(c)) {
    if (spec.name.includes(".adaptmlp.")) continue;
    weights.set(spec.name, { shape: spec.shape, data: await downloadHost(() => program.materialise(spec.name)) });
  }
  const widths: number[] = [];
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}.adaptmlp`;
    // One tidy computes the block's modules once; absent biases merge as zeros.
    const merged = tf.tidy(() => {
      const kept: FoldedModule[] =
        mlpAdapterWidth(c, i) === 0
          ? []
          : [
              {
                down: program.materialise(`${b}.down_proj.weight`) as tf.Tensor2D,
                downBias: program.materialise(`${b}.down_proj.bias`) as tf.Tensor1D,
                up: program.materialise(`${b}.up_proj.weight`) as tf.Tensor2D,
                upBias: program.materialise(`${b}.up_proj.bias`) as tf.Tensor1D,
              },
            ];
      const parts = [...kept, ...program.modulesBeside(i)];
      if (parts.length === 0) return [];
      return [
        tf.concat(
          parts.map((p) => p.down),
          0,
        ),
        tf.concat(
          parts.map((p) => p.downBias ?? tf.zeros([p.down.shape[0]])),
          0,
        ),
        tf.concat(
          parts.map((p) => p.up),
          1,
        ),
        tf.addN(parts.map((p) => p.upBias ?? tf.zeros([c.width]))),
      ];
    });
    if (merged.length === 0) {
      widths.push(0);
      continue;
    }
    const width = merged[0]!.shape[0]!;
    const shapes = [[width, c.width], [width], [c.width, width], [c.width]];
    for (const [k, name] of ["down_proj.weight", "down_proj.bias", "up_proj.weight", "up_proj.bias"].entries()) {
      weights.set(`${b}.${name}`, { shape: shapes[k]!, data: (await hostCopy(merged[k]!)) as Float32Array });
      merged[k]!.dispose();
    }
    widths.push(width);
  }
  const config: VitConfig = widths.some((w) => w > 0) ? { ...c, mlpAdapters: widths } : withoutAdapters(c);
  // Keep timm's parameter order for the written file.
  const ordered = new Map(vitParams(config).map((p) => [p.name, weights.get(p.name)!]));
  return { config, weights: ordered };
};

const withoutAdapters = (c: VitConfig): VitConfig => {
  const { mlpAdapters: _, ...rest } = c;
  return rest;
};
