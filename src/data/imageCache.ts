import { createHash } from "node:crypto";
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { besidePath, writeFileAtomic } from "../util/atomicWrite.js";

/**
 * A folder's decoded images on disk: `<key>.u8` holds one fixed-size uint8 slot per file, in file
 * order (zeros for a file that failed), and `<key>.json` which files failed. Reading a slot is a
 * positional read, so a test set larger than memory is read one batch at a time.
 */
export interface ImageSlots {
  readonly path: string;
  readonly count: number;
  /** Bytes in one slot (H·W·C). */
  readonly pixels: number;
  /** Slots of files that could not be decoded. */
  readonly bad: ReadonlySet<number>;
}

/**
 * Where a folder's cache lives: `<root>/.peft-cache/`, or a folder under the system's temporary
 * one when the dataset cannot be written to. The key hashes every file's path, size and mtime and
 * the decoding settings, so a changed file or setting decodes afresh.
 */
export const cacheKey = (root: string, files: readonly string[], settings: unknown): { readonly dirs: readonly string[]; readonly key: string } => {
  const hash = createHash("sha1");
  hash.update(JSON.stringify(settings));
  for (const f of files) {
    const s = statSync(f);
    hash.update(`${f.slice(root.length)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  const fallback = join(tmpdir(), "peft-dsl-cache", createHash("sha1").update(root).digest("hex").slice(0, 16));
  return { dirs: [join(root, ".peft-cache"), fallback], key: hash.digest("hex").slice(0, 20) };
};

/** The complete cache of `key` in one of `dirs`, or null (absent, half-written or damaged: decoded afresh). */
export const openSlots = (dirs: readonly string[], key: string, count: number, pixels: number): ImageSlots | null => {
  for (const dir of dirs) {
    const path = join(dir, `${key}.u8`);
    const index = join(dir, `${key}.json`);
    if (!existsSync(path) || !existsSync(index)) continue;
    try {
      const head = JSON.parse(readFileSync(index, "utf8")) as { count: number; pixels: number; bad: number[] };
      if (head.count === count && head.pixels === pixels && statSync(path).size === count * pixels) return { path, count, pixels, bad: new Set(head.bad) };
    } catch {
      // A damaged index: decoded afresh.
    }
  }
  return null;
};

/** Fills a new cache slot by slot; `commit` makes it visible to readers at once (the slots file, then its index). */
export interface SlotWriter {
  readonly put: (slot: number, image: Uint8Array) => void;
  readonly commit: (bad: readonly number[]) => ImageSlots;
  readonly abandon: () => void;
}

/** A writer into the first of `dirs` that can be written. */
export const writeSlots = (dirs: readonly string[], key: string, count: number, pixels: number): SlotWriter => {
  for (const dir of dirs) {
    const path = join(dir, `${key}.u8`);
    const tmp = besidePath(path);
    let fd: number;
    try {
      mkdirSync(dir, { recursive: true });
      fd = openSync(tmp, "w");
    } catch {
      continue;
    }
    const abandon = () => {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      rmSync(tmp, { force: true });
    };
    return {
      put: (slot, image) => {
        let written = 0;
        while (written < image.byteLength) written += writeSync(fd, image, written, image.byteLength - written, slot * pixels + written);
      },
      commit: (bad) => {
        try {
          ftruncateSync(fd, count * pixels);
          fsyncSync(fd);
          closeSync(fd);
          renameSync(tmp, path);
          writeFileAtomic(join(dir, `${key}.json`), JSON.stringify({ count, pixels, bad }));
        } catch (e) {
          abandon();
          throw e;
        }
        return { path, count, pixels, bad: new Set(bad) };
      },
      abandon,
    };
  }
  throw new Error(`cannot write an image cache in ${dirs.join(" or ")}`);
};

/** The images in `slots`, concatenated, read from disk. */
export const readSlots = (cache: ImageSlots, slots: readonly number[]): Uint8Array => {
  const out = new Uint8Array(slots.length * cache.pixels);
  const fd = openSync(cache.path, "r");
  try {
    slots.forEach((s, k) => {
      let read = 0;
      while (read < cache.pixels) {
        const n = readSync(fd, out, k * cache.pixels + read, cache.pixels - read, s * cache.pixels + read);
        if (n === 0) throw new Error(`${cache.path}: ended before image ${s}`);
        read += n;
      }
    });
  } finally {
    closeSync(fd);
  }
  return out;
};
