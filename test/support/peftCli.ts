import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));
/** The built `peft` binary (npm test builds first). */
export const peftBin = join(projectRoot, "dist/src/cli/main.js");

/** `peft ARGS…` run in `cwd` as a user runs it: exit code and output. */
export const peftIn =
  (cwd: string) =>
  (...args: string[]) => {
    const r = spawnSync(process.execPath, [peftBin, ...args], { cwd, encoding: "utf8" });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
