import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { matmul64 as reference } from "../support/reference64.js";
import { openBlas } from "../../src/ops/openBlas.js";
import { blasCalls } from "../../src/ops/wasmBlasMatMul.js";

/** The first index where two arrays differ in value or bits (NaN never equals), or −1. */
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
};

// .ci/run installs OpenBLAS and sets PEFT_REQUIRE_BLAS=1, so there these tests cannot skip.
const blas = openBlas(1);
const required = process.env.PEFT_REQUIRE_BLAS === "1";

describe.skipIf(!blas.loaded && !required)("the wasm backend's matmuls through OpenBLAS (native/blas.c)", () => {
  useBackend("wasm");

  it("loads the system's BLAS", () => {
    expect(blas.loaded, blas.loaded ? "" : blas.reason).toBe(true);
  });

  it("equals the float64 product for any shape, with transpose flags, broadcast batches and batch axes of any rank", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<number[]>([], [1], [3], [2, 3]),
        fc.constantFrom("both", "a", "b"),
        fc.integer({ min: 1, max: 37 }),
        fc.integer({ min: 1, max: 29 }),
        fc.integer({ min: 1, max: 41 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (outer, broadcast, m, k, n, ta, tb, seed) => {
          // A broadcast side has no batch axes (a plain matrix) or all ones.
          const [outerA, outerB] = broadcast === "a" ? [outer.map(() => 1), outer] : broadcast === "b" ? [outer, []] : [outer, outer];
          const a = tf.randomUniform([...outerA, ...(ta ? [k, m] : [m, k])], -1, 1, "float32", seed);
          const b = tf.randomUniform([...outerB, ...(tb ? [n, k] : [k, n])], -1, 1, "float32", seed + 1);
          const before = blasCalls();
          const c = tf.matMul(a, b, ta, tb);
          expect(blasCalls()).toBe(before + 1);
          expect(c.shape).toEqual([...outer, m, n]);
          const size = (s: number[]) => tf.util.sizeFromShape(s);
          const want = reference(a.dataSync() as Float32Array, b.dataSync() as Float32Array, size(outerA), size(outerB), m, k, n, ta, tb);
          expectClose(c.dataSync(), want, { atol: 1e-5, rtol: 1e-5 }, "product");
          tf.dispose([a, b, c]);
        },
      ),
      { numRuns: 80, seed: 7 },
    );
  });

  it("broadcasts batches on both sides ([2, 1] against [1, 3]), where tfjs's own wasm kernel returns a third of the product", () => {
    const a = tf.randomUniform([2, 1, 4, 5], -1, 1, "float32", 3);
    const b = tf.randomUniform([1, 3, 5, 6], -1, 1, "float32", 4);
    const c = tf.matMul(a, b);
    expect(c.shape).toEqual([2, 3, 4, 6]);
    const [av, bv] = [a.dataSync(), b.dataSync()] as Float32Array[];
    const want = [0, 1].flatMap((i) =>
      [0, 1, 2].flatMap((j) => Array.from(reference(av!.subarray(20 * i, 20 * i + 20), bv!.subarray(30 * j, 30 * j + 30), 1, 1, 4, 5, 6, false, false))),
    );
    expectClose(c.dataSync(), want, { atol: 1e-5, rtol: 1e-5 }, "product");
    tf.dispose([a, b, c]);
  });

  it("shares products, and blocks of rows or columns of large ones, among any number of threads with the same values bit for bit", () => {
    if (!blas.loaded) throw new Error(blas.reason);
    // A batch of small products split whole, a product cut into blocks of rows and a batch cut into blocks of columns (ragged last blocks).
    for (const [batch, m, k, n, tiled] of [
      [7, 9, 5, 6, false],
      [1, 300, 70, 260, true],
      [3, 90, 30, 301, true],
    ] as const) {
      const heap = new Float32Array(batch * m * k + k * n + 4 * batch * m * n).map((_, i) => Math.sin(i));
      const b = 4 * batch * m * k;
      const c = (run: number) => 4 * (batch * m * k + k * n + run * batch * m * n);
      const at = (byte: number) => heap.subarray(byte / 4, byte / 4 + batch * m * n);
      [1, 2, 3, 8].forEach((threads, run) => blas.matmul(heap, 0, b, c(run), batch, m, n, k, m * k, 0, true, true, tiled, threads));
      for (const run of [1, 2, 3]) expect(firstDifference(at(c(run)), at(c(0)))).toBe(-1);
      const want = reference(heap.subarray(0, batch * m * k), heap.subarray(b / 4, b / 4 + k * n), batch, 1, m, k, n, true, true);
      expectClose(at(c(0)), want, { atol: 1e-5, rtol: 1e-5 }, "product");
    }
  });

  it("cuts a product of 2^31 multiply-adds into eight blocks, the same on 1, 3 and 8 threads and equal to float64 where sampled", () => {
    if (!blas.loaded) throw new Error(blas.reason);
    const [m, k, n] = [2048, 1024, 1024];
    const heap = new Float32Array(m * k + k * n + 3 * m * n).map((_, i) => Math.sin(i % 9973));
    const c = (run: number) => 4 * (m * k + k * n + run * m * n);
    [1, 3, 8].forEach((threads, run) => blas.matmul(heap, 0, 4 * m * k, c(run), 1, m, n, k, 0, 0, false, false, true, threads));
    const at = (run: number) => heap.subarray(c(run) / 4, c(run) / 4 + m * n);
    expect(firstDifference(at(1), at(0))).toBe(-1);
    expect(firstDifference(at(2), at(0))).toBe(-1);
    for (let s = 0; s < 64; s++) {
      // Rows on both sides of every block boundary (256 rows a block) and columns across the row.
      const [i, j] = [(s * 257 + 255) % m, (s * 389) % n];
      let want = 0;
      for (let t = 0; t < k; t++) want += heap[i * k + t]! * heap[m * k + t * n + j]!;
      expect(Math.abs(at(0)[i * n + j]! - want)).toBeLessThan(1e-5 * k);
    }
  });

  it("gemm tiles a block of columns of a wider matrix and accumulates into it, the same on any number of threads", () => {
    if (!blas.loaded) throw new Error(blas.reason);
    const [m, k, n, ldc, from] = [200, 40, 150, 400, 130];
    const heap = new Float32Array(m * k + k * n + 3 * m * ldc).map((_, i) => Math.cos(i));
    const c = (run: number) => 4 * (m * k + k * n + run * m * ldc);
    const before = Array.from(heap.subarray(c(0) / 4, c(0) / 4 + m * ldc));
    heap.copyWithin(c(1) / 4, c(0) / 4, c(0) / 4 + m * ldc);
    for (const [run, threads] of [1, 3].entries()) blas.gemm(heap, 0, 4 * m * k, c(run) + 4 * from, m, n, k, k, n, ldc, false, false, true, true, threads);
    const [one, three] = [c(0), c(1)].map((o) => heap.subarray(o / 4, o / 4 + m * ldc));
    expect(firstDifference(three!, one!)).toBe(-1);
    const product = reference(heap.subarray(0, m * k), heap.subarray(m * k, m * k + k * n), 1, 1, m, k, n, false, false);
    const want = before.map((x, i) => (i % ldc >= from && i % ldc < from + n ? x + product[Math.floor(i / ldc) * n + (i % ldc) - from]! : x));
    expectClose(one!, want, { atol: 1e-5, rtol: 1e-5 }, "accumulated block");
  });

  it("refuses a call whose operands reach outside the heap, before touching it; gemm accumulates into a block of columns", () => {
    if (!blas.loaded) throw new Error(blas.reason);
    const heap = new Float32Array(64).fill(2);
    expect(() => blas.matmul(heap, 0, 0, 4 * 60, 1, 2, 4, 3, 0, 0, false, false, false, 1)).toThrow(/do not lie inside the heap/);
    expect(() => blas.matmul(heap, 0, 4 * 62, 0, 1, 2, 2, 2, 0, 0, false, false, true, 2)).toThrow(/do not lie inside the heap/);
    expect(() => blas.matmul(heap, 0, 0, 0, 0, 2, 2, 2, 0, 0, false, false, false, 1)).toThrow(/do not lie inside the heap/);
    expect(() => blas.matmul(heap, 0, 0, 0, 1, 2, 2, 2, 0, 0, false, false, false, 0)).toThrow(/threads a positive integer/);
    // gemm's c as a block of columns: its last row ends (m − 1)·ldc + n floats in.
    expect(() => blas.gemm(heap, 0, 0, 4 * 50, 2, 4, 2, 2, 4, 12, false, false, true, true, 2)).toThrow(/do not lie inside the heap/);
    expect(() => blas.gemm(heap, 0, 0, 0, 2, 4, 2, 1, 4, 4, false, false, false, false, 1)).toThrow(/do not lie inside the heap/);
    expect(heap.every((x) => x === 2)).toBe(true);
    blas.gemm(heap, 0, 0, 4 * 40, 2, 2, 2, 2, 2, 6, false, false, true, false, 1);
    expect(Array.from(heap.subarray(40, 48))).toEqual([10, 10, 2, 2, 2, 2, 10, 10]);
    blas.matmul(heap, 0, 16, 32, 1, 2, 2, 2, 0, 0, false, false, false, 1);
    expect(Array.from(heap.subarray(8, 12))).toEqual([8, 8, 8, 8]);
  });
});

describe("which matmul the wasm backend runs, in its backend line", () => {
  const backend = fileURLToPath(new URL("../../dist/src/train/backend.js", import.meta.url));
  const line = (env: Record<string, string>) => {
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { loadBackend, releaseBackend } from ${JSON.stringify(backend)}; console.log(await loadBackend("wasm")); await releaseBackend();`,
      ],
      { encoding: "utf8", env: { ...process.env, ...env } },
    );
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  it("says OpenBLAS when it loads, the wasm kernels and why when it does not", () => {
    expect(line({ PEFT_BLAS: "off" })).toMatch(
      /^wasm \(SIMD, 1 thread; matmul: wasm kernels, no BLAS \(PEFT_BLAS=off\); GELU, LayerNorm: (native \((x86-64-v3|native)\)|wasm kernels)\)$/,
    );
    expect(line({ PEFT_NATIVE: "off" })).toBe("wasm (SIMD, 1 thread; matmul: wasm kernels, no BLAS (PEFT_NATIVE=off); GELU, LayerNorm: wasm kernels)");
    expect(line({ PEFT_BLAS: "/nowhere/libblas.so" })).toMatch(/^wasm \(SIMD, 1 thread; matmul: wasm kernels, no BLAS \(\/nowhere\/libblas\.so: cannot open/);
    if (blas.loaded || required) expect(line({})).toMatch(/^wasm \(SIMD, 1 thread; matmul: OpenBLAS \d+\.\d+/);
  });
});
