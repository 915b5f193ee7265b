import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { presets, type VitConfig } from "../models/vitConfig.js";
import { readBackbone } from "../models/backbone.js";
import { taskClasses } from "../dsl/experiment.js";
import { backbonePath } from "../train/loadBackbone.js";
import { BadInput } from "../train/errors.js";
import type { readMethodOrExperiment } from "./readInput.js";

/**
 * The backbone config a method is counted against: `--backbone` (a preset such as vit-b16, or a
 * checkpoint), else the experiment's own backbone with its task head, else the default backbone.
 */
export const configFor = (flag: string | undefined, file: ReturnType<typeof readMethodOrExperiment>): VitConfig => {
  if (flag !== undefined && presets[flag]) return presets[flag]!;
  const exp = file.experiment;
  const path = flag !== undefined ? resolve(flag) : backbonePath(exp?.backbone.weights ?? "default", file.baseDir);
  let config: VitConfig;
  try {
    config = readBackbone(readFileSync(path), path).config;
  } catch (e) {
    throw new BadInput({ lines: [`${flag !== undefined ? "--backbone" : "backbone.weights"}: ${(e as Error).message}${flag !== undefined ? ` (or a preset: ${Object.keys(presets).join(", ")})` : ""}`] });
  }
  return exp && exp.backbone.head === "reset" ? { ...config, classes: taskClasses(exp.data) } : config;
};

