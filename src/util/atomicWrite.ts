import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";

/** A unique name beside `path` for a write in progress: `<path>.<pid>.<8 hex>.<suffix>` (what removeDeadWriters recognises). */
export const besidePath = (path: string, suffix = "tmp"): string => `${path}.${process.pid}.${randomBytes(4).toString("hex")}.${suffix}`;

/** Write to a temporary file beside the target (`tmp`), flush it, then rename: readers never see half a file. */
export const writeFileAtomic = (path: string, data: Uint8Array | string, tmp = besidePath(path)): void => {
  try {
    const fd = openSync(tmp, "w");
    try {
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      let written = 0;
      while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
};

/** A directory filled inside a fresh folder beside `out`, then renamed into place: no half-written directory. */
export const writeDirectoryAtomic = async (out: string, fill: (dir: string) => void | Promise<void>): Promise<void> => {
  const tmp = besidePath(out);
  mkdirSync(tmp, { recursive: true });
  try {
    await fill(tmp);
    renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
};
