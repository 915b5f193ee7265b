import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import "../../src/ops/gradients.js";
import { spectralDelta } from "../../src/ops/spectralDelta.js";
import { nativeAddon } from "../../src/ops/nativeAddon.js";
import { openBlas } from "../../src/ops/openBlas.js";
import { blasCalls } from "../../src/ops/wasmBlasMatMul.js";
import { testBackend, useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { rng } from "../../src/util/random.js";

// On wasm with the native kernels and a BLAS (.ci/run requires both) the row route; elsewhere scatter and a whole IDFT.
const byRows = testBackend === "wasm" && (("addon" in nativeAddon() && openBlas(1).loaded) || process.env.PEFT_REQUIRE_BLAS === "1");

/** L distinct flat positions of an m × n spectrum and N(0, 1) values. */
const spectrum = (m: number, n: number, count: number, seed: number) => {
  const r = rng(seed, "spectrum");
  const positions = new Set<number>();
  while (positions.size < count) positions.add(Math.floor(r.uniform() * m * n));
  return { positions: Int32Array.from(positions), values: Float32Array.from({ length: count }, () => r.normal()) };
};

/** cos(2π(u j/m + v k/n)) / (m·n) for position p = u·n + v at entry (j, k), in float64. */
const basis = (p: number, j: number, k: number, m: number, n: number) =>
  Math.cos(2 * Math.PI * (((Math.floor(p / n) * j) % m) / m + (((p % n) * k) % n) / n)) / (m * n);

describe("a sparse spectrum's Re(IDFT2)", () => {
  useBackend();

  it(`equals the float64 definition in value and gradient (${byRows ? "row transforms and one product" : "scatter and a whole IDFT"} on ${testBackend})`, () => {
    for (const [m, n, count] of [
      [192, 192, 300],
      [12, 32, 40],
      [48, 7, 336],
      [5, 3, 15],
    ] as const) {
      const { positions, values } = spectrum(m, n, count, m + n);
      const w = Float32Array.from({ length: m * n }, (_, i) => Math.sin(i + 1));
      const [c, p] = [tf.tensor1d(values), tf.tensor1d(positions, "int32")];
      const before = blasCalls();
      const y = spectralDelta(c, p, m, n);
      if (byRows) expect(blasCalls() - before).toBe(1);
      const want = new Float64Array(m * n);
      for (let l = 0; l < count; l++) for (let j = 0; j < m; j++) for (let k = 0; k < n; k++) want[j * n + k]! += values[l]! * basis(positions[l]!, j, k, m, n);
      const scale = want.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      expectClose(y.dataSync(), want, { atol: 1e-5 * scale, rtol: 1e-4 }, `${m}×${n} value`);
      // L = Σ W ⊙ Y: dL/dc_l = Σ_jk W[j,k] basis_l[j,k].
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(spectralDelta(x as tf.Tensor1D, p, m, n), tf.tensor2d(w, [m, n]))))(c);
      const wantGrad = Array.from(positions, (pos) => {
        let s = 0;
        for (let j = 0; j < m; j++) for (let k = 0; k < n; k++) s += w[j * n + k]! * basis(pos, j, k, m, n);
        return s;
      });
      expectClose(g.dataSync(), wantGrad, { atol: 1e-6, rtol: 1e-4 }, `${m}×${n} gradient`);
      tf.dispose([c, p, y, g]);
    }
  });

  it.runIf(byRows)("the native row transforms refuse a position outside the spectrum, or operands outside the heap, before touching it", () => {
    const native = nativeAddon();
    if (!("addon" in native)) throw new Error(native.reason);
    const heap = new Float32Array(64).fill(5);
    new Int32Array(heap.buffer).set([0, 7], 8);
    expect(() => native.addon.spectralRows(heap, 0, 4 * 8, 0, 4 * 16, 2, 2, 3)).toThrow(/outside the m × n spectrum/);
    expect(() => native.addon.spectralRows(heap, 0, 4 * 8, 0, 4 * 60, 1, 2, 3)).toThrow(/inside the heap/);
    expect(() => native.addon.spectralRowsGrad(heap, 4 * 55, 4 * 8, 0, 0, 1, 2, 3)).toThrow(/inside the heap/);
    expect(Array.from(heap.subarray(16)).every((v) => v === 5)).toBe(true);
  });
});
