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
import { showValue } from "../util/decodeError.js";

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

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * What a file holds, as data: a JSON file's value, or the default export of a JavaScript module
 * (a TypeScript experiment, compiled), awaited when it is a promise — the way to use a user's own
 * primitives, which the module registers as it loads. The module is imported first; reading the
 * JSON, and every failure of the module, is reported when the returned reader runs.
 */
const inputReader = async (path: string): Promise<() => unknown> => {
  if (!/\.m?js$/.test(path)) return () => readJson(path);
  let stage = "cannot load the module";
  try {
    const exported = ((await import(pathToFileURL(resolve(path)).href)) as { default?: unknown }).default;
    stage = "its default export rejected";
    const value: unknown = await exported;
    if (typeof value !== "object" || value === null)
      return () => failing(path, [`expected a default export holding the experiment or method, got ${showValue(value)}`]);
    stage = "its default export is not data";
    // As data: what a JSON file would hold, decoded with the same codec (defaults, readable errors).
    const json: unknown = JSON.parse(JSON.stringify(value));
    return () => json;
  } catch (e) {
    return () => failing(path, [`${stage}: ${message(e)}`]);
  }
};

const failing = (path: string, lines: readonly string[]): never => {
  throw failed(path, lines);
};

/** The experiment in a JSON file or a JavaScript module (see inputReader); its `method` may name a file. */
export const experimentReader = async (path: string): Promise<() => { experiment: Experiment; baseDir: string }> => {
  const read = await inputReader(path);
  const baseDir = dirname(resolve(path));
  return () => decodedExperiment(withMethodFile(read(), baseDir), path, baseDir);
};

/** A file's content — an experiment (its `method` is used) or a bare method — decoded. */
export const readMethodOrExperiment = (json: unknown, path: string): { method: Method; experiment?: Experiment; baseDir: string } => {
  const baseDir = dirname(resolve(path));
  if (typeof json === "object" && json !== null && "method" in json) {
    const { experiment } = decodedExperiment(withMethodFile(json, baseDir), path, baseDir);
    return { method: experiment.method, experiment, baseDir };
  }
  const decoded = decodeMethod(json);
  if (isLeft(decoded)) throw failed(path, decoded.left);
  return { method: decoded.right, baseDir };
};

/** A method or an experiment, in a JSON file or a JavaScript module, as `peft train` reads one. */
export const methodReader = async (path: string): Promise<() => ReturnType<typeof readMethodOrExperiment>> => {
  const read = await inputReader(path);
  return () => readMethodOrExperiment(read(), path);
};
