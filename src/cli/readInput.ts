import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { isLeft } from "fp-ts/lib/Either.js";
import { decodeExperiment, decodeMethod } from "../dsl/codecs.js";
import type { Experiment } from "../dsl/experiment.js";
import type { Method } from "../dsl/method.js";
import { BadInput } from "../train/errors.js";
import { readInputFile } from "../train/readInputFile.js";
import { ImageDataError } from "../data/imageDecoding.js";
import { resolveTask } from "../data/imageTask.js";

/** A JSON file the user named; a missing, unreadable or malformed one is BadInput naming `field`. */
export const readJson = (path: string, field = path): unknown => {
  const text = readInputFile(path, field).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadInput({ lines: [`${path}: not valid JSON (${(e as Error).message})`] });
  }
};

const failed = (path: string, lines: readonly string[]) => new BadInput({ lines: lines.map((l) => `${path}: ${l}`) });

/**
 * An experiment whose `method` names a file (a method, or an experiment whose method is taken),
 * relative to the experiment file, with that method put in its place.
 */
const withMethodFile = (json: unknown, baseDir: string): unknown => {
  if (typeof json !== "object" || json === null || typeof (json as { method?: unknown }).method !== "string") return json;
  const raw = readJson(resolve(baseDir, (json as { method: string }).method), "method");
  const method = typeof raw === "object" && raw !== null && "method" in raw ? (raw as { method: unknown }).method : raw;
  return { ...json, method };
};

/** The experiment with an image folder's classes read from the folder (relative to `baseDir`). */
const withClasses = (e: Experiment, baseDir: string, path: string): Experiment => {
  try {
    return { ...e, data: resolveTask(e.data, baseDir) };
  } catch (err) {
    if (err instanceof ImageDataError) throw failed(path, [err.message]);
    throw err;
  }
};

const decodedExperiment = (json: unknown, path: string, baseDir: string): { experiment: Experiment; baseDir: string } => {
  const decoded = decodeExperiment(json);
  if (isLeft(decoded)) throw failed(path, decoded.left);
  return { experiment: withClasses(decoded.right, baseDir, path), baseDir };
};

export const readExperiment = (path: string): { experiment: Experiment; baseDir: string } => {
  const baseDir = dirname(resolve(path));
  return decodedExperiment(withMethodFile(readJson(path), baseDir), path, baseDir);
};

/**
 * An experiment from a JSON file, or the default export of a JavaScript module (a TypeScript
 * experiment, compiled) — the way to train a method with a user's own primitives, which the module
 * registers as it loads. The module is imported first; what it exports is checked when the reader runs.
 */
export const experimentReader = async (path: string): Promise<() => { experiment: Experiment; baseDir: string }> => {
  if (!/\.m?js$/.test(path)) return () => readExperiment(path);
  const baseDir = dirname(resolve(path));
  let loaded: { readonly exported: unknown } | { readonly failure: string };
  try {
    loaded = { exported: ((await import(pathToFileURL(resolve(path)).href)) as { default?: unknown }).default };
  } catch (e) {
    loaded = { failure: `cannot load the module: ${e instanceof Error ? e.message : String(e)}` };
  }
  return () => {
    if ("failure" in loaded) throw failed(path, [loaded.failure]);
    if (typeof loaded.exported !== "object" || loaded.exported === null) throw failed(path, ["expected a default export holding the experiment"]);
    // As data: what a JSON file would hold, decoded with the same codec (defaults, readable errors).
    return decodedExperiment(JSON.parse(JSON.stringify(loaded.exported)), path, baseDir);
  };
};

/** A file holding an experiment (its `method` is used) or a bare method. */
export const readMethodOrExperiment = (path: string): { method: Method; experiment?: Experiment; baseDir: string } => {
  const json = readJson(path);
  const baseDir = dirname(resolve(path));
  if (typeof json === "object" && json !== null && "method" in json) {
    const decoded = decodeExperiment(withMethodFile(json, baseDir));
    if (isLeft(decoded)) throw failed(path, decoded.left);
    return { method: decoded.right.method, experiment: withClasses(decoded.right, baseDir, path), baseDir };
  }
  const decoded = decodeMethod(json);
  if (isLeft(decoded)) throw failed(path, decoded.left);
  return { method: decoded.right, baseDir };
};
