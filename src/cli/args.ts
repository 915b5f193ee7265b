import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { BadInput } from "../train/errors.js";
import { backendNames, type BackendName } from "../train/backend.js";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parse flags strictly; unknown flags and missing values are BadInput (exit code 2). */
export const parse = (argv: readonly string[], options: Options) => {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new BadInput({ lines: [(e as Error).message] });
  }
};

export const intFlag = (name: string, raw: unknown, min: number): number | undefined => {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(v) || v < min) throw new BadInput({ lines: [`--${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`] });
  return v;
};

export const backendFlag = (raw: unknown): BackendName => {
  const v = raw ?? "auto";
  if (!backendNames.includes(v as BackendName)) throw new BadInput({ lines: [`--backend: expected one of ${backendNames.join(", ")}, got ${JSON.stringify(v)}`] });
  return v as BackendName;
};

export const requireFlag = (name: string, raw: unknown): string => {
  if (typeof raw !== "string" || raw === "") throw new BadInput({ lines: [`--${name} is required`] });
  return raw;
};

export const onePositional = (positionals: readonly string[], what: string): string => {
  if (positionals.length !== 1) throw new BadInput({ lines: [`expected one ${what}, got ${positionals.length === 0 ? "none" : positionals.join(" ")}`] });
  return positionals[0]!;
};

/** A file the command will write: not a directory, not already there (unless `replace`), in a folder that exists. */
export const newFileFlag = (name: string, raw: unknown, replace = false): string => {
  const path = resolve(requireFlag(name, raw));
  if (existsSync(path) && statSync(path).isDirectory()) throw new BadInput({ lines: [`--${name}: ${path} is a directory; name a file`] });
  if (existsSync(path) && !replace) throw new BadInput({ lines: [`--${name}: ${path} already exists; name a new file`] });
  if (!existsSync(dirname(path)) || !statSync(dirname(path)).isDirectory()) throw new BadInput({ lines: [`--${name}: the folder ${dirname(path)} does not exist`] });
  return path;
};
