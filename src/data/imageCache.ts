import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { processAlive } from "../util/processAlive.js";

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
    let stamp = "unreadable";
    try {
      const s = statSync(f);
      stamp = `${s.size}\0${s.mtimeMs}`;
    } catch {
      // A dangling or looping link, left to the decoder to skip or refuse.
    }
    hash.update(`${f.slice(root.length)}\0${stamp}\n`);
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

/**
 * A cache folder is shared by every run on the dataset, on every host that mounts it: a writer's
 * temporary file is named by its host and process, `<file>.<host hash>-<pid>.<8 hex>.tmp`, so
 * that what a killed writer left can be told from what a live one is writing.
 */
const host = createHash("sha1").update(hostname()).digest("hex").slice(0, 8);
const temporary = (path: string) => `${path}.${host}-${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
const temporaryName = /\.([0-9a-f]{8})-(\d+)\.[0-9a-f]{8}\.tmp$/;

/** Remove the temporary files of this host's writers that died mid-write (killed during a first decode). */
const removeDeadTemporaries = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const m = temporaryName.exec(name);
    if (m !== null && m[1] === host && !processAlive(Number(m[2]))) rmSync(join(dir, name), { force: true });
  }
};

/** A writer into the first of `dirs` that can be written. */
export const writeSlots = (dirs: readonly string[], key: string, count: number, pixels: number): SlotWriter => {
  for (const dir of dirs) {
    const path = join(dir, `${key}.u8`);
    const tmp = temporary(path);
    let fd: number;
    try {
      mkdirSync(dir, { recursive: true });
      removeDeadTemporaries(dir);
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
          const index = join(dir, `${key}.json`);
          writeFileAtomic(index, JSON.stringify({ count, pixels, bad }), temporary(index));
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
