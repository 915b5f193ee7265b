// npm ci's install step: build native/ (kernels on tfjs-wasm's heap: matmuls through the system's
// BLAS, GELU, LayerNorm) with node-gyp.
// A failed build never fails the install: the wasm backend then runs its own wasm kernels, and
// its backend line says so. PEFT_SKIP_NATIVE=1 skips the build.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const addon = join(dirname(fileURLToPath(import.meta.url)), "..", "native");
const say = (line) => process.stderr.write(`peft-dsl: ${line}\n`);

if (process.env.PEFT_SKIP_NATIVE === "1") {
  say("PEFT_SKIP_NATIVE=1: the native kernels are not built; the wasm kernels run");
  process.exit(0);
}
/*
 * The instruction set the kernels are compiled for. x86-64-v3 (AVX2, FMA, BMI2…) wherever the CPU
 * has it: one set for every such CPU, so the kernels' sums run in one order and a run gives the
 * same numbers on an AVX-512 Intel and an AMD Zen (OpenBLAS is pinned to its matching Haswell
 * kernels at run time). `native` elsewhere (ARM, older x86), or when PEFT_MARCH=native asks for
 * this CPU's widest vectors at the price of CPU-specific results.
 */
const x86v3 = ["avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "xsave"];
const march = () => {
  if (process.env.PEFT_MARCH === "native") return "native";
  if (process.arch !== "x64" || process.platform !== "linux") return "native";
  const flags = new Set((/^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "").trim().split(/\s+/));
  return x86v3.every((f) => flags.has(f)) ? "x86-64-v3" : "native";
};
const arch = march();

// npm puts its own node-gyp on the PATH of lifecycle scripts and names it in npm_config_node_gyp.
const gyp = process.env.npm_config_node_gyp;
const rebuild = ["rebuild", "--", `-Dmarch=${arch}`];
const [command, args] = gyp ? [process.execPath, [gyp, ...rebuild]] : ["node-gyp", rebuild];
const run = spawnSync(command, args, { cwd: addon, encoding: "utf8" });
if (run.status === 0) say(`built the native kernels (native/, -march=${arch}); the matmuls load libopenblas at run time`);
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
