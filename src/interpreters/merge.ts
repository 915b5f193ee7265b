import type { HostTensor, Weights } from "../models/backbone.js";
import { vitParams } from "../models/vitParams.js";
import { readHost } from "../util/hostRead.js";
import type { Program } from "./compile/program.js";

/** The merged backbone: every transform folded into plain weights, under timm's names and shapes. */
export const mergedWeights = (program: Program): Weights => {
  const out = new Map<string, HostTensor>();
  for (const spec of vitParams(program.config)) {
    out.set(spec.name, { shape: spec.shape, data: readHost(() => program.materialise(spec.name)) });
  }
  return out;
};
