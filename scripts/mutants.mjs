#!/usr/bin/env node
/*
 * Mutation check: each mutant below is a realistic one-line bug. In a scratch copy of the working
 * tree, the named tests first pass unmutated; then each mutant is applied on its own and the tests
 * named beside it must fail; a mutant they let pass survives, and the run exits 1 naming it.
 * `npm run mutants` (the named tests import the sources; `build` mutants' tests run the CLI, so
 * dist/ is rebuilt for them; `native` ones rebuild native/ with node-gyp, as `npm ci` does, and are
 * skipped where it does not build; `needs: "OpenBLAS"` ones where no OpenBLAS loads);
 * `npm run mutants -- WORD…` runs only the mutants whose name holds a WORD.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const mutants = [
  {
    name: "LoRA's scale α/r read as α",
    file: "src/primitives/lowRank.ts",
    from: 'l.scaling === "alpha/rank" ? l.alpha / l.rank : l.alpha);',
    to: 'l.scaling === "alpha/rank" ? l.alpha : l.alpha);',
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "the host |DFT2| of S²FT's weighted positions written transposed",
    file: "src/ops/hostFft.ts",
    from: "out[u * n + v] = Math.hypot(",
    to: "out[v * m + u] = Math.hypot(",
    tests: ["test/ops/dft2Magnitude.test.ts"],
  },
  {
    name: "the row order used instead of its inverse (the permutation on backends without the wasm kernel)",
    file: "src/ops/permuteMatrix.ts",
    from: "value: tf.tidy(() => gather2(x, inverse(rows), inverse(cols))),",
    to: "value: tf.tidy(() => gather2(x, rows, inverse(cols))),",
    tests: ["test/laws/generated.cpu.test.ts"],
  },
  {
    name: "safetensors accepts a data span longer than its shape",
    file: "src/models/safetensors.ts",
    from: "elements * itemSize !== end - begin) {",
    to: "elements * itemSize > end - begin) {",
    tests: ["test/models/safetensors.test.ts"],
  },
  {
    name: "FourierFT's α left out of the float64 reference",
    file: "src/primitives/spectral.ts",
    from: "+= (s.scale * c[i]! * Math.cos(",
    to: "+= (c[i]! * Math.cos(",
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "AdaptFormer's s not folded into up",
    file: "src/primitives/parallelAdapter.ts",
    from: 'up: tf.mul(tensors("up_weight"), a.scale) as tf.Tensor2D,',
    to: 'up: tf.mul(tensors("up_weight"), 1) as tf.Tensor2D,',
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "a spectrum said to start at the identity whatever its init",
    file: "src/primitives/spectral.ts",
    from: 'startsAtIdentity: (s) => s.init === "zeros",',
    to: "startsAtIdentity: () => true,",
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "LoRA counted as r·2·dout",
    file: "src/primitives/lowRank.ts",
    from: "count: (l, site) => l.rank * (site.shape[0]! + site.shape[1]!),",
    to: "count: (l, site) => l.rank * (site.shape[0]! + site.shape[0]!),",
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "the 1-bit level 0.6745 mistyped",
    file: "src/ops/binarize.ts",
    from: "export const binaryLevel = 0.6745;",
    to: "export const binaryLevel = 0.6754;",
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "torch's Fisher–Yates stopping one swap early",
    file: "src/util/torchRandperm.ts",
    from: "for (let i = 0; i < Math.min(count, n - 1); i++) {",
    to: "for (let i = 0; i < Math.min(count, n - 2); i++) {",
    tests: ["test/util/torchRandperm.test.ts"],
  },
  {
    name: "RLRR's ΔW without the pretrained W in the float64 reference",
    file: "src/primitives/rescale.ts",
    from: "d[i * din + j] = left[i]! * right[j]! * pretrained[i * din + j]!;",
    to: "d[i * din + j] = left[i]! * right[j]!;",
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "the trainer ignores the program's mask",
    file: "src/interpreters/compile/trainer.ts",
    from: "const [trainable] = partition(program.variables, program.mask);",
    to: "const [trainable] = partition(program.variables, new Map([...program.variables.keys()].map((k) => [k, true])));",
    tests: ["test/laws/generated.test.ts"],
  },
  {
    name: "each channel normalised with the next channel's mean and std",
    file: "src/data/preprocessing.ts",
    from: "return Array.from({ length: channels }, (_, ch) => values[ch % values.length]!);",
    to: "return Array.from({ length: channels }, (_, ch) => values[(ch + 1) % values.length]!);",
    tests: ["test/data/timmPreprocessing.test.ts"],
  },
  {
    name: "pixels multiplied by std instead of divided",
    file: "src/data/imageDecoding.ts",
    from: "const scale = std.map((s) => 1 / 255 / s);",
    to: "const scale = std.map((s) => s / 255);",
    tests: ["test/data/timmPreprocessing.test.ts"],
  },
  {
    name: "the centre crop's left offset rounded half up (one pixel off timm's)",
    file: "src/data/imageDecoding.ts",
    from: "const left = roundHalfEven((w - size) / 2);",
    to: "const left = Math.round((w - size) / 2);",
    tests: ["test/data/timmPreprocessing.test.ts"],
  },
  {
    name: "LayerNorm's ε added outside the square root (the composed LayerNorm: cpu, WebGPU)",
    file: "src/ops/layerNorm.ts",
    from: "tf.rsqrt(tf.add(variance, eps))",
    to: "tf.div(1, tf.add(tf.sqrt(variance), eps))",
    tests: ["test/ops/edgeNumerics.test.ts"],
  },
  {
    name: "LayerNorm's variance in one pass, E[x²] − μ² (the composed LayerNorm)",
    file: "src/ops/layerNorm.ts",
    from: "const { mean, variance } = tf.moments(x, -1, true);",
    to: "const mean = tf.mean(x, -1, true), variance = tf.sub(tf.mean(tf.square(x), -1, true), tf.square(mean));",
    tests: ["test/ops/edgeNumerics.test.ts"],
  },
  {
    name: "LayerNorm's ε added outside the square root (the native kernel)",
    file: "native/layerNorm.c",
    from: "*rstd = 1.0f / __builtin_sqrtf(sq / (float)d + eps);",
    to: "*rstd = 1.0f / (__builtin_sqrtf(sq / (float)d) + eps);",
    native: true,
    tests: ["test/ops/edgeNumerics.test.ts"],
  },
  {
    name: "cross-entropy's log-probabilities as the log of the softmax",
    file: "src/ops/crossEntropy.ts",
    from: "return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));",
    to: "return tf.log(tf.div(tf.exp(shifted), tf.sum(tf.exp(shifted), -1, true)));",
    tests: ["test/ops/edgeNumerics.test.ts"],
  },
  {
    name: "cross-entropy's softmax without the row's max taken off",
    file: "src/ops/crossEntropy.ts",
    from: "const shifted = tf.sub(logits, tf.max(logits, -1, true));",
    to: "const shifted = logits;",
    tests: ["test/ops/edgeNumerics.test.ts"],
  },
  {
    name: "attention's softmax without the row's max taken off (the native kernel)",
    file: "native/attention.c",
    from: "row[j] = exp_f(row[j] - most);",
    to: "row[j] = exp_f(row[j]);",
    native: true,
    needs: "OpenBLAS",
    tests: ["test/ops/edgeNumerics.test.ts"],
  },
  {
    name: "the native GELU's derivative far out left to x · e^−87 (~1 too much at |x| = 1e38)",
    file: "native/gelu.c",
    from: "for (int i = 0; i < n; i++) dx[i] = x[i] > 1e4f ? dy[i] : x[i] < -1e4f ? 0.0f : dx[i];",
    to: "",
    native: true,
    tests: ["test/ops/edgeNumerics.test.ts"],
  },
  {
    name: "full fine-tuning decays pos_embed, cls_token and reg_token (timm's no_weight_decay forgotten)",
    file: "src/primitives/full.ts",
    from: "decay: site.matrix && site.shape.length >= 2 }",
    to: "decay: site.shape.length >= 2 }",
    tests: ["test/train/weightDecay.test.ts"],
  },
  {
    name: "full fine-tuning decays biases and norms too",
    file: "src/primitives/full.ts",
    from: "decay: site.matrix && site.shape.length >= 2 }",
    to: "decay: true }",
    tests: ["test/train/weightDecay.test.ts"],
  },
  {
    name: "an adapter's vectors decay (FourierFT's spectra)",
    file: "src/interpreters/adapterParams.ts",
    from: "decay: spec.decay ?? spec.shape.length >= 2,",
    to: "decay: spec.decay ?? true,",
    tests: ["test/train/weightDecay.test.ts"],
  },
  {
    name: "the trainer decays every tensor it trains",
    file: "src/interpreters/compile/trainer.ts",
    from: "vars.map(([name]) => decay.get(name) ?? false),",
    to: "vars.map(() => true),",
    tests: ["test/train/weightDecay.test.ts"],
  },
  {
    name: "a resume keeps the killed epoch's log lines (one epoch too many)",
    file: "src/train/runLog.ts",
    from: "Array.from({ length: history.length + 1 }, (_, i) => i - 1);",
    to: "Array.from({ length: history.length + 2 }, (_, i) => i - 1);",
    build: true,
    tests: ["test/train/resumeLog.test.ts"],
  },
  {
    name: "a resume does not cut the log back to the checkpoint",
    file: "src/train/runExperiment.ts",
    from: "writeFileAtomic(files.log, resumedLog(records, c.history));",
    to: 'writeFileAtomic(files.log, records.map((r) => `${r.line}\\n`).join(""));',
    build: true,
    tests: ["test/train/resumeLog.test.ts"],
  },
  {
    name: "the log's step counter restarts with each process (from the checkpoint's epoch)",
    file: "src/train/runExperiment.ts",
    from: 'yield* log(p.files, { type: "step", epoch, step: step + 1,',
    to: 'yield* log(p.files, { type: "step", epoch, step: run.stepTimes.length,',
    build: true,
    tests: ["test/train/resumeLog.test.ts"],
  },
  {
    name: "an epoch checkpointed but killed before its log line stays without one",
    file: "src/train/runLog.ts",
    from: '...(e >= 0 && !logged.has(e) ? [JSON.stringify({ type: "epoch", ...history[e] })] : []),',
    to: "...[],",
    build: true,
    tests: ["test/train/resumeLog.test.ts"],
  },
  {
    name: "off a terminal, lines only at tenths of the work (minutes of silence in a slow phase)",
    file: "src/train/progress.ts",
    from: "|| now() - lastLine >= 1000 * quietSeconds",
    to: "",
    tests: ["test/train/progress.test.ts"],
  },
];

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const scratch = mkdtempSync(join(tmpdir(), "peft-mutants-"));
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8" })
  .split("\0")
  .filter(Boolean);
for (const f of files) {
  mkdirSync(dirname(join(scratch, f)), { recursive: true });
  try {
    cpSync(join(root, f), join(scratch, f));
  } catch {
    // A file deleted in the working tree but still tracked.
  }
}
symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"));

const words = process.argv.slice(2);
const chosen = mutants.filter((m) => words.length === 0 || words.some((w) => m.name.includes(w)));

const inScratch = (command, args, env = {}) => spawnSync(command, args, { cwd: scratch, encoding: "utf8", env: { ...process.env, ...env } });
/** native/ built in the scratch copy as `npm ci` builds it; false where it does not build here. */
const buildNative = () => {
  rmSync(join(scratch, "native/build"), { recursive: true, force: true });
  inScratch(process.execPath, ["scripts/buildNative.mjs"]);
  return existsSync(join(scratch, "native/build/Release/peft_native.node"));
};
/** dist/ for the tests that run the CLI (another file's type error does not stop tsc's output). */
const buildDist = () => {
  inScratch("npx", ["tsc", "-p", "tsconfig.build.json"]);
  if (!existsSync(join(scratch, "dist/src/cli/main.js"))) throw new Error("dist/ did not build in the scratch copy");
};
const blas = process.env.PEFT_BLAS ? process.env.PEFT_BLAS !== "off" : execFileSync("ldconfig", ["-p"], { encoding: "utf8" }).includes("libopenblas.so.0");
const native = chosen.some((m) => m.native) ? buildNative() : false;
// The kernels' tests may not skip where the mutants need them.
const env = { ...(native ? { PEFT_REQUIRE_NATIVE: "1" } : {}), ...(blas ? { PEFT_REQUIRE_BLAS: "1" } : {}) };
const runnable = (m) => (m.native && !native ? "native/ does not build here" : m.needs === "OpenBLAS" && !blas ? "no OpenBLAS loads here" : null);
const survivors = [];
const skipped = [];
try {
  if (chosen.some((m) => m.build)) buildDist();
  const tests = [...new Set(chosen.filter((m) => runnable(m) === null).flatMap((m) => m.tests))];
  const baseline = inScratch("npx", ["vitest", "run", ...tests], env);
  if (baseline.status !== 0) throw new Error(`the named tests fail before any mutant:\n${baseline.stdout.slice(-3000)}`);
  for (const m of chosen) {
    const why = runnable(m);
    if (why !== null) {
      skipped.push(m.name);
      process.stdout.write(`skipped  ${m.name} (${why})\n`);
      continue;
    }
    const path = join(scratch, m.file);
    const original = readFileSync(path, "utf8");
    const at = original.split(m.from).length - 1;
    if (at !== 1) throw new Error(`mutant "${m.name}": the line to change occurs ${at} times in ${m.file}; update the list`);
    writeFileSync(path, original.replace(m.from, m.to));
    const started = Date.now();
    if (m.native && !buildNative()) throw new Error(`mutant "${m.name}" does not compile`);
    if (m.build) buildDist();
    const run = inScratch("npx", ["vitest", "run", ...m.tests], env);
    writeFileSync(path, original);
    // dist/ is rebuilt before each `build` mutant's tests, the only ones that read it.
    if (m.native) buildNative();
    const killed = run.status !== 0;
    if (!killed) survivors.push(m.name);
    process.stdout.write(`${killed ? "killed  " : "SURVIVED"} ${m.name} (${m.tests.join(", ")}; ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const ran = chosen.length - skipped.length;
process.stdout.write(`${ran - survivors.length} of ${ran} mutants killed${skipped.length > 0 ? `, ${skipped.length} skipped` : ""}\n`);
if (survivors.length > 0) process.exitCode = 1;
