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
