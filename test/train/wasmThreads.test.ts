import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/* The wasm backend's thread pool under Node (src/train/wasmThreads.ts), in fresh processes. */
const backend = fileURLToPath(new URL("../../dist/src/train/backend.js", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));

/** A child that loads wasm, multiplies seeded matrices (plain and through a transpose), prints its description and a checksum, then releases the backend. */
const run = (threads: string) =>
  spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `
  import * as tf from "@tensorflow/tfjs-core";
  import { loadBackend, releaseBackend } from ${JSON.stringify(backend)};
  const description = await loadBackend("wasm");
  const a = tf.randomUniform([257, 300], -1, 1, "float32", 1), b = tf.randomUniform([300, 129], -1, 1, "float32", 2);
  const c = tf.matMul(a, b).dataSync();
  const g = tf.matMul(tf.transpose(a), tf.matMul(a, b)).dataSync();
  console.log(JSON.stringify({ description, c: Array.from(c), g: Array.from(g.slice(0, 500)) }));
  await releaseBackend();
`,
    ],
    // The pool's own matmul (XNNPACK), not the native kernels, is what two threads must not change.
    { cwd: root, encoding: "utf8", env: { ...process.env, PEFT_WASM_THREADS: threads, PEFT_NATIVE: "off" } },
  );

describe("wasm threads under Node", () => {
  it("start 2 threads, give the single-threaded results bit for bit, and let the process exit", () => {
    const two = run("2");
    const one = run("1");
    expect(two.status, two.stderr).toBe(0);
    expect(one.status, one.stderr).toBe(0);
    const [t, o] = [JSON.parse(two.stdout), JSON.parse(one.stdout)];
    expect(t.description).toBe("wasm (SIMD, 2 threads; matmul: wasm kernels, no BLAS (PEFT_NATIVE=off); GELU, LayerNorm: wasm kernels)");
    expect(o.description).toBe("wasm (SIMD, 1 thread; matmul: wasm kernels, no BLAS (PEFT_NATIVE=off); GELU, LayerNorm: wasm kernels)");
    expect(t.c).toEqual(o.c);
    expect(t.g).toEqual(o.g);
  });

  it("a script that never releases the backend still exits when its work is done (the pool's threads do not hold it)", async () => {
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `
      import * as tf from "@tensorflow/tfjs-core";
      import { loadBackend } from ${JSON.stringify(backend)};
      console.log(await loadBackend("wasm"));
      console.log(tf.matMul(tf.ones([300, 300]), tf.ones([300, 300])).dataSync()[0]);
    `,
      ],
      { cwd: root, env: { ...process.env, PEFT_WASM_THREADS: "2" } },
    );
    // Held by its threads, the child would never exit: it must exit within ten times what its
    // work took (start-up included), a bound that a slower or busier machine scales with.
    const started = performance.now();
    let [stdout, stderr, worked] = ["", "", 0];
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on("exit", done));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (/\n300\n$/.test(stdout)) worked = performance.now() - started;
    });
    const code = await Promise.race([
      exited,
      (async () => {
        while (worked === 0 || performance.now() - started < 11 * worked) await new Promise((r) => setTimeout(r, 50));
        child.kill("SIGKILL");
        return "still running ten times its work after printing its result";
      })(),
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^wasm \(SIMD, 2 threads; matmul: [^\n]+\)\n300\n$/);
  });
});
