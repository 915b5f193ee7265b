import { lstatSync, realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { ImageDataError } from "./imageDecoding.js";

/** Where a path of a dataset leads: into its root, out of it, or nowhere readable (and why). */
export type Whereabouts =
  { readonly kind: "inside" } | { readonly kind: "outside"; readonly target: string } | { readonly kind: "unreadable"; readonly why: string };

/** Whether `path` lies strictly below `dir` (both absolute). */
const below = (dir: string, path: string): boolean => {
  const r = relative(dir, path);
  return r !== "" && r !== ".." && !r.startsWith(`..${sep}`) && !isAbsolute(r);
};

/** Why following `path` failed, in words. */
const why = (path: string, e: NodeJS.ErrnoException): string => {
  if (e.code === "ELOOP") return "a loop of symbolic links";
  if (e.code !== "ENOENT" && e.code !== "ENOTDIR") return e.message;
  try {
    return lstatSync(path).isSymbolicLink() ? "a symbolic link to nothing" : "no such file";
  } catch {
    return "no such file";
  }
};

/**
 * A dataset root and the test every path read from it passes: after following symbolic links it
 * must still lie in the root, so neither a list line (`../x.png`, an absolute path) nor a link can
 * make a run read files elsewhere.
 */
export const datasetRoot = (root: string, field: string) => {
  const dir = resolve(root);
  let real: string;
  try {
    real = realpathSync(root);
  } catch (e) {
    const reason = why(root, e as NodeJS.ErrnoException);
    throw new ImageDataError(`${field}: ${root}: ${reason === "no such file" ? "no such folder" : reason}`);
  }
  return {
    dir,
    /** Where `path` (absolute, under the root as written) leads. */
    whereabouts: (path: string): Whereabouts => {
      if (!below(dir, resolve(path))) return { kind: "outside", target: resolve(path) };
      let target: string;
      try {
        target = realpathSync(path);
      } catch (e) {
        return { kind: "unreadable", why: why(path, e as NodeJS.ErrnoException) };
      }
      return below(real, target) ? { kind: "inside" } : { kind: "outside", target };
    },
  };
};

export type DatasetRoot = ReturnType<typeof datasetRoot>;
