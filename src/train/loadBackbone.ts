import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Effect } from "effect";
import { readBackbone, type Backbone } from "../models/backbone.js";
import { defaultBackbonePath } from "../util/packageRoot.js";
import { BadInput } from "./errors.js";

/** "default" is the embedded demo backbone; other paths are relative to `baseDir`. */
export const backbonePath = (weights: string, baseDir: string): string =>
  weights === "default" ? defaultBackbonePath() : resolve(baseDir, weights);

/** Read a backbone checkpoint; failures name `field` and say what is wrong with the file. */
export const readBackboneFile = (path: string, field = "backbone.weights", hint = ""): Backbone => {
  try {
    return readBackbone(readFileSync(path), path);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? `no such file ${path}` : (e as Error).message;
    throw new BadInput({ lines: [`${field}: ${why}${hint}`] });
  }
};

export const loadBackbone = (path: string, field = "backbone.weights"): Effect.Effect<Backbone, BadInput> =>
  Effect.try({ try: () => readBackboneFile(path, field), catch: (e) => e as BadInput });
