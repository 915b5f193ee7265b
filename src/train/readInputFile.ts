import { readFileSync } from "node:fs";
import { BadInput } from "./errors.js";

/** Read a file the user named; a missing or unreadable one is BadInput naming `field`. */
export const readInputFile = (path: string, field: string, hint = ""): Buffer => {
  try {
    return readFileSync(path);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? `no such file ${path}` : (e as Error).message;
    throw new BadInput({ lines: [`${field}: ${why}${hint}`] });
  }
};
