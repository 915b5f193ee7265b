import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { BadInput } from "../train/errors.js";

/** A file the command will write: not a directory, not already there (unless `replace`), in a folder that exists. */
export const newFilePath = (field: string, raw: string, replace = false): string => {
  const path = resolve(raw);
  if (existsSync(path) && statSync(path).isDirectory()) throw new BadInput({ lines: [`${field}: ${path} is a directory; name a file`] });
  if (existsSync(path) && !replace) throw new BadInput({ lines: [`${field}: ${path} already exists; name a new file`] });
  if (!existsSync(dirname(path)) || !statSync(dirname(path)).isDirectory())
    throw new BadInput({ lines: [`${field}: the folder ${dirname(path)} does not exist`] });
  return path;
};
