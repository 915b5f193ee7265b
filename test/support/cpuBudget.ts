import { spawnSync } from "node:child_process";
import { peftBin } from "./peftCli.js";

/*
 * "Bounded work" measured in CPU seconds, not wall time: another process on the machine slows a
 * command's clock, not the work it does. A bound is a multiple of a reference command's CPU time
 * measured on the same machine, so a slower CPU raises both.
 */

/** Seconds of bash's `times` line ("0m1.195s 0m0.116s": user, system). */
const seconds = (line: string): number =>
  line
    .trim()
    .split(/\s+/)
    .map((field) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(field);
      if (!m) throw new Error(`unexpected times output: ${JSON.stringify(line)}`);
      return Number(m[1]) * 60 + Number(m[2]);
    })
    .reduce((a, b) => a + b, 0);

/** `peft ARGS…` in `cwd`, with the user + system CPU seconds it used (its threads and children included). */
export const peftWithCpuIn =
  (cwd: string) =>
  (...args: string[]) => {
    // bash's `times` reports its children's CPU; written to fd 3 so peft's own output stays apart.
    const r = spawnSync("bash", ["-c", '"$@"; code=$?; times >&3; exit $code', "peft", process.execPath, peftBin, ...args], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    const times = String(r.output[3]).trim().split("\n");
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, cpuSeconds: seconds(times[1]!) };
  };

/** CPU seconds `f` takes in this process (every thread of it). */
export const cpuSecondsOf = async <T>(f: () => Promise<T>): Promise<{ readonly value: T; readonly cpuSeconds: number }> => {
  const before = process.cpuUsage();
  const value = await f();
  const used = process.cpuUsage(before);
  return { value, cpuSeconds: (used.user + used.system) / 1e6 };
};
