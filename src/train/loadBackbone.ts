import { resolve } from "node:path";
import { Effect } from "effect";
import { readBackbone, type Backbone } from "../models/backbone.js";
import { defaultBackbonePath } from "../util/packageRoot.js";
import { BadInput } from "./errors.js";
import { readInputFile } from "./readInputFile.js";

/** "default" is the embedded demo backbone; other paths are relative to `baseDir`. */
export const backbonePath = (weights: string, baseDir: string): string =>
  weights === "default" ? defaultBackbonePath() : resolve(baseDir, weights);

/** Read a backbone checkpoint; failures name `field` and say what is wrong with the file. */
export const readBackboneFile = (path: string, field = "backbone.weights", hint = ""): Backbone => {
  const bytes = readInputFile(path, field, hint);
  try {
    return readBackbone(bytes, path);
  } catch (e) {
    throw new BadInput({ lines: [`${field}: ${(e as Error).message}${hint}`] });
  }
};

export const loadBackbone = (path: string, field = "backbone.weights"): Effect.Effect<Backbone, BadInput> =>
  Effect.try({ try: () => readBackboneFile(path, field), catch: (e) => e as BadInput });
