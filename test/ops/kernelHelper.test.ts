import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expectClose } from "../support/close.js";

/*
 * Our compiled kernels on the threaded wasm build: in place on tfjs's shared heap, large calls
 * split with the helper thread (src/ops/kernelHelper.ts). Checked in fresh processes against the
 * single-threaded build, where they run one call at a time in their own memory.
 */
const dist = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../dist/src/${path}`, import.meta.url)));
const root = fileURLToPath(new URL("../../", import.meta.url));

/** A child that runs every kernel above its split size on seeded inputs and prints the results. */
const run = (threads: string) =>
  spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `
  import * as tf from "@tensorflow/tfjs-core";
  import { loadBackend, releaseBackend } from ${dist("train/backend.js")};
  import ${dist("ops/gradients.js")};
  import { gelu } from ${dist("ops/gelu.js")};
  import { layerNorm } from ${dist("ops/layerNorm.js")};
  import { batchMatMul } from ${dist("ops/batchMatMul.js")};
  import { permuteMatrix } from ${dist("ops/permuteMatrix.js")};
  import { helperCalls, helpersUp } from ${dist("ops/kernelHelper.js")};
  const description = await loadBackend("wasm");
  // A first call of each kernel binds it to the heap and starts its helper; wait until the helpers are up.
  tf.tidy(() => { const s = tf.ones([8, 8]); gelu(s); layerNorm(s, tf.ones([8]), tf.zeros([8]), 1e-6); batchMatMul(tf.ones([2, 8, 8]), tf.ones([2, 8, 8])); });
  while (!helpersUp()) await new Promise((done) => setTimeout(done, 10));
  const u = (shape, seed) => tf.randomUniform(shape, -3, 3, "float32", seed);
  const [x, dy] = [u([1040, 768], 1), u([1040, 768], 2)];
  const geluGrad = tf.grad((t) => tf.sum(tf.mul(gelu(t), dy)))(x);
  const [h, g, b, w] = [u([1040, 192], 3), u([192], 4), u([192], 5), u([1040, 192], 6)];
  const [dh, dg, db] = tf.grads((a, c, d) => tf.sum(tf.mul(layerNorm(a, c, d, 1e-6), w)))([h, g, b]);
  const [q, k] = [u([48, 65, 64], 7), u([48, 64, 65], 8)];
  const rows = tf.tensor1d(Array.from({ length: 192 }, (_, i) => (i * 37) % 192), "int32");
  const cols = tf.tensor1d(Array.from({ length: 768 }, (_, i) => (i * 101) % 768), "int32");
  const list = (t) => Array.from(t.dataSync());
  console.log(JSON.stringify({
    description, gelu: list(gelu(x)), geluGrad: list(geluGrad), ln: list(layerNorm(h, g, b, 1e-6)), dh: list(dh), dg: list(dg), db: list(db),
    bmm: list(batchMatMul(q, k)), permuted: list(permuteMatrix(u([192, 768], 9), rows, cols)), helperCalls: helperCalls(),
  }));
  await releaseBackend();
`,
    ],
    { cwd: root, encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, PEFT_WASM_THREADS: threads, PEFT_NATIVE: "off" } },
  );

describe("our kernels on two threads over tfjs's shared heap", () => {
  it("give the single-threaded results (bit for bit, but for LayerNorm's dγ and dβ, summed in two halves), and let the process exit", () => {
    const [two, one] = [run("2"), run("1")];
    expect(two.status, two.stderr).toBe(0);
    expect(one.status, one.stderr).toBe(0);
    const [t, o] = [JSON.parse(two.stdout), JSON.parse(one.stdout)];
    expect(t.description).toBe("wasm (SIMD, 2 threads; matmul: wasm kernels, no BLAS (PEFT_NATIVE=off); GELU, LayerNorm: wasm kernels)");
    // Every large call split: GELU and LayerNorm forward twice (the value, and inside their gradients), each backward once, the product once.
    expect(t.helperCalls).toBe(7);
    expect(o.helperCalls).toBe(0);
    for (const key of ["gelu", "geluGrad", "ln", "dh", "bmm", "permuted"]) expect(t[key], key).toEqual(o[key]);
    for (const key of ["dg", "db"]) expectClose(t[key], o[key], { atol: 1e-3, rtol: 1e-5 }, key);
  });

  it("never touch the shadow stack, so two instances can share one memory (no global.get/set of global 0, the stack pointer, in any code section)", () => {
    const kernels = fileURLToPath(new URL("../../kernels/", import.meta.url));
    for (const file of readdirSync(kernels).filter((f) => f.endsWith(".wasm"))) {
      const bytes = readFileSync(`${kernels}${file}`);
      const module = new WebAssembly.Module(bytes);
      expect(WebAssembly.Module.imports(module), file).toEqual([{ module: "env", name: "memory", kind: "memory" }]);
      // Walk the sections to the code section (id 10).
      let at = 8;
      let code: Uint8Array | null = null;
      while (at < bytes.length) {
        const id = bytes[at++]!;
        let [size, shift] = [0, 0];
        for (let byte = 0x80; byte & 0x80; shift += 7) size |= ((byte = bytes[at++]!) & 0x7f) << shift;
        if (id === 10) code = bytes.subarray(at, at + size);
        at += size;
      }
      expect(code, file).not.toBeNull();
      const stackUses = code!.findIndex((b, i) => (b === 0x23 || b === 0x24) && code![i + 1] === 0);
      expect(stackUses, `${file}: global.get/set 0 at code byte ${stackUses}`).toBe(-1);
    }
  });
});
