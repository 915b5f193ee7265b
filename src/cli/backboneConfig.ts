import { resolve } from "node:path";
import { presets, type VitConfig } from "../models/vitConfig.js";
import { taskClasses } from "../dsl/experiment.js";
import { backbonePath, readBackboneFile, readOptions, type ReadOptions } from "../train/loadBackbone.js";
import type { readMethodOrExperiment } from "./readInput.js";

/** `--arch` as read options (a bare checkpoint's timm architecture). */
export const archOption = (raw: unknown): ReadOptions => (typeof raw === "string" ? { arch: raw } : {});

/**
 * The backbone config a method is counted against: `--backbone` (a preset such as vit-b16, or a
 * checkpoint), else the experiment's own backbone with its task head, else the default backbone.
 */
export const configFor = (flag: string | undefined, file: ReturnType<typeof readMethodOrExperiment>, options: ReadOptions = {}): VitConfig => {
  const exp = file.experiment;
  const hint = ` (or a preset: ${Object.keys(presets).join(", ")})`;
  const config =
    flag === undefined
      ? readBackboneFile(backbonePath(exp?.backbone.weights ?? "default", file.baseDir), "backbone.weights", "", exp ? readOptions(exp.backbone) : {}).config
      : (presets[flag] ?? readBackboneFile(resolve(flag), "--backbone", hint, options).config);
  return exp && exp.backbone.head === "reset" ? { ...config, classes: taskClasses(exp.data) } : config;
};
