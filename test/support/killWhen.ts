import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** Lines of a file that contain `marker` (0 while it does not exist). */
export const linesWith = (path: string, marker: string): number =>
  existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l !== "" && l.includes(marker)).length
    : 0;

/** Run `node args…` and SIGKILL it as soon as `ready()` holds: "killed", or its exit code when it ended first. */
export const killOrExit = async (args: readonly string[], cwd: string, ready: () => boolean): Promise<"killed" | number | null> => {
  const child = spawn(process.execPath, [...args], { cwd, stdio: "ignore" });
  const closed = new Promise<number | null>((done) => child.on("close", done));
  const killed = await new Promise<boolean>((done) => {
    const timer = setInterval(() => {
      if (!ready()) return;
      clearInterval(timer);
      child.kill("SIGKILL");
      done(true);
    }, 20);
    child.on("exit", () => {
      clearInterval(timer);
      done(false);
    });
  });
  const code = await closed;
  return killed ? "killed" : code;
};

/** Run `node args…`, SIGKILL it as soon as `ready()` holds, and wait until it is gone; fails if it ends first. */
export const killWhen = async (args: readonly string[], cwd: string, ready: () => boolean): Promise<void> => {
  if ((await killOrExit(args, cwd, ready)) !== "killed") throw new Error(`${args.slice(1, 2).join(" ")} ended before it could be killed`);
};
