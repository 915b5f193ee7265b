import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Effect } from "effect";
import { readBackbone, type Backbone } from "../models/backbone.js";
import { defaultBackbonePath } from "../util/packageRoot.js";
import { BadInput } from "./errors.js";

/** "default" is the embedded demo backbone; other paths are relative to `baseDir`. */
export const backbonePath = (weights: string, baseDir: string): string =>
  weights === "default" ? defaultBackbonePath() : resolve(baseDir, weights);

export const loadBackbone = (path: string, field = "backbone.weights"): Effect.Effect<Backbone, BadInput> =>
  Effect.try({
    try: () => readBackbone(readFileSync(path), path),
    catch: (e) => new BadInput({ lines: [`${field}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? `no such file ${path}` : (e as Error).message}`] }),
  });
