#!/usr/bin/env node
import { runCli } from "./program.js";

// A worker of `peft sweep` has an IPC channel to it: when the sweep dies, the worker stops too.
// The channel must not keep a finished worker alive.
if (process.send !== undefined) {
  process.on("disconnect", () => process.exit(130));
  process.channel?.unref();
}

runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
