// npm ci's install step: build native/ (kernels on tfjs-wasm's heap: matmuls through the system's
// BLAS, GELU, LayerNorm) with node-gyp.
// A failed build never fails the install: the wasm backend then runs its own wasm kernels, and
// its backend line says so. PEFT_SKIP_NATIVE=1 skips the build.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const addon = join(dirname(fileURLToPath(import.meta.url)), "..", "native");
const say = (line) => process.stderr.write(`peft-dsl: ${line}\n`);

if (process.env.PEFT_SKIP_NATIVE === "1") {
  say("PEFT_SKIP_NATIVE=1: the native kernels are not built; the wasm kernels run");
  process.exit(0);
}
// npm puts its own node-gyp on the PATH of lifecycle scripts and names it in npm_config_node_gyp.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp ? [process.execPath, [gyp, "rebuild"]] : ["node-gyp", ["rebuild"]];
const run = spawnSync(command, args, { cwd: addon, encoding: "utf8" });
if (run.status === 0) say("built the native kernels (native/); the matmuls load libopenblas at run time");
else {
  const why =
    run.error?.message ??
    (run.stderr || run.stdout)
      .trim()
      .split("\n")
      .filter((l) => /error|ERR!/i.test(l))
      .slice(0, 3)
      .join(" | ");
  say(`the native kernels did not build (${why || `node-gyp exited ${run.status}`}); the wasm kernels run instead`);
}
