import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { besidePath } from "../util/atomicWrite.js";
import { processAlive as alive } from "../util/processAlive.js";
import { BadInput } from "./errors.js";

/** Who holds a run directory. */
interface Holder {
  readonly pid: number;
  readonly host: string;
}

const readHolder = (path: string): Holder | null => {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as Holder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : null;
  } catch {
    return null;
  }
};

/** A run directory must be a folder or be creatable as one: a file at `dir`, or above it, is bad input. */
export const checkRunDirectory = (dir: string): void => {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  if (existsSync(at) && !statSync(at).isDirectory())
    throw new BadInput({ lines: [at === dir ? `--out ${dir} is a file; name a directory for the run` : `--out ${dir}: ${at} is a file, not a folder`] });
};

/**
 * Take `<dir>/.lock` for this process (created with O_EXCL, so of two writers one wins). A lock
 * whose process is gone (killed) is taken over: it is renamed away first, so two processes that
 * both find it stale cannot both take it. A lock held on another host cannot be checked and is
 * refused, naming it. Returns the release.
 */
export const lockRunDirectory = (dir: string): (() => void) => {
  checkRunDirectory(dir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, ".lock");
  const me: Holder = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => {
        if (readHolder(path)?.pid === me.pid) rmSync(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = readHolder(path);
    if (holder !== null && holder.host !== me.host) {
      throw new BadInput({ lines: [`--out ${dir} is locked by pid ${holder.pid} on ${holder.host}; if that run is gone, delete ${path}`] });
    }
    // An unreadable lock is one being written this instant: look again.
    if (holder !== null && alive(holder.pid)) {
      throw new BadInput({ lines: [`--out ${dir} is in use by another peft process (pid ${holder.pid}); wait for it, or choose another directory`] });
    }
    const stale = besidePath(path, "stale");
    try {
      renameSync(path, stale);
      rmSync(stale, { force: true });
    } catch {
      // Another process took the stale lock over first; try again, it will be alive.
    }
  }
  throw new BadInput({ lines: [`--out ${dir}: could not take ${path}; another process keeps taking it`] });
};

/** Who holds a run directory now: null when nobody (no lock, or its process is gone); `alive` null when it is on another host. */
export const runDirectoryHolder = (dir: string): { readonly pid: number; readonly host: string; readonly alive: boolean | null } | null => {
  const holder = readHolder(join(dir, ".lock"));
  if (holder === null) return null;
  if (holder.host !== hostname()) return { ...holder, alive: null };
  return alive(holder.pid) ? { ...holder, alive: true } : null;
};

/** Names made by besidePath: temporary files of atomic writes and taken-over locks. */
const leftover = /\.(\d+)\.[0-9a-f]{8}\.(tmp|stale)$/;

/**
 * Remove what writers killed mid-write left in a run directory we hold: their temporary files
 * (up to the size of merged.safetensors). Returns how many were removed.
 */
export const removeDeadWriters = (dir: string): number => {
  if (!existsSync(dir)) return 0;
  let removed = 0;
  for (const name of readdirSync(dir)) {
    const m = leftover.exec(name);
    if (m === null || Number(m[1]) === process.pid) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed += 1;
  }
  return removed;
};
