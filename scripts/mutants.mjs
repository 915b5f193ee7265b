#!/usr/bin/env node
/*
 * Mutation check: each mutant below is a realistic one-line bug. In a scratch copy of the working
 * tree, each is applied on its own and the tests named beside it must fail; a mutant they let
 * pass survives, and the run exits 1 naming it. `npm run mutants` (no build needed: the named
 * tests import the sources); `npm run mutants -- WORD…` runs only the mutants whose name holds a WORD.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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
const survivors = [];
try {
  for (const m of chosen) {
    const path = join(scratch, m.file);
    const original = readFileSync(path, "utf8");
    const at = original.split(m.from).length - 1;
    if (at !== 1) throw new Error(`mutant "${m.name}": the line to change occurs ${at} times in ${m.file}; update the list`);
    writeFileSync(path, original.replace(m.from, m.to));
    const started = Date.now();
    const run = spawnSync("npx", ["vitest", "run", ...m.tests], { cwd: scratch, encoding: "utf8" });
    writeFileSync(path, original);
    const killed = run.status !== 0;
    if (!killed) survivors.push(m.name);
    process.stdout.write(`${killed ? "killed  " : "SURVIVED"} ${m.name} (${m.tests.join(", ")}; ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`${chosen.length - survivors.length} of ${chosen.length} mutants killed\n`);
if (survivors.length > 0) process.exitCode = 1;
