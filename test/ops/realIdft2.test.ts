import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import "../../src/ops/gradients.js";
import { realIdft2, realIdft2Native } from "../../src/ops/realIdft2.js";
import { realIdft2Host } from "../../src/ops/hostFft.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { rng } from "../../src/util/random.js";

/** The definition, in float64, entry by entry: Σ S[u,v] cos(2π(uj/m + vk/n)) / (m·n). */
const direct = (s: ArrayLike<number>, m: number, n: number): Float64Array => {
  const out = new Float64Array(m * n);
  for (let u = 0; u < m; u++) {
    for (let v = 0; v < n; v++) {
      const c = s[u * n + v]!;
      if (c === 0) continue;
      for (let j = 0; j < m; j++) for (let k = 0; k < n; k++) out[j * n + k] = out[j * n + k]! + c * Math.cos(2 * Math.PI * ((u * j) / m + (v * k) / n));
    }
  }
  return out.map((x) => x / (m * n));
};

const random = (size: number, seed: number) => {
  const r = rng(seed, "spectrum");
  return Float32Array.from({ length: size }, () => r.normal());
};

/** A sparse spectrum: `count` random positions with N(0,1) values. */
const sparse = (m: number, n: number, count: number, seed: number) => {
  const r = rng(seed, "positions");
  const s = new Float32Array(m * n);
  for (let i = 0; i < count; i++) s[Math.floor(r.uniform() * m * n)] = r.normal();
  return s;
};

describe("Re(IDFT2) op", () => {
  useBackend();

  it("matches the float64 definition on dense spectra of any size (PFFFT sizes and direct ones)", () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 3, 7, 16, 32, 48), fc.constantFrom(2, 5, 16, 80, 96), fc.nat(1000), (m, n, seed) => {
        const s = random(m * n, seed);
        expectClose(realIdft2Host(s, m, n), direct(s, m, n), { atol: 1e-6, rtol: 1e-4 }, `${m}×${n}`);
      }),
      { numRuns: 30, seed: 2 },
    );
  });

  it("handles ViT-B/16's 768×768 and 3072×768 with sparse spectra, against the definition", () => {
    for (const [m, n] of [
      [768, 768],
      [3072, 768],
    ] as const) {
      const s = sparse(m, n, 6, m);
      const expected = direct(s, m, n);
      const actual = realIdft2Host(s, m, n);
      const scale = expected.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
      expectClose(actual, expected, { atol: 1e-5 * scale, rtol: 0 }, `${m}×${n}`);
    }
  });

  it("has the gradient of the definition: dL/dS = Re(IDFT2(dL/dY)), checked in float64", () => {
    const [m, n] = [12, 32];
    const s = random(m * n, 7);
    const w = random(m * n, 8);
    const g = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(realIdft2(x as tf.Tensor2D), tf.tensor2d(w, [m, n]))))(tf.tensor2d(s, [m, n])));
    // L = Σ W ⊙ Y is linear in S; its gradient at entry (u,v) is Σ_jk W[j,k] cos(...)/(mn) = Y(W)[u,v] by symmetry.
    expectClose(g.dataSync(), direct(w, m, n), { atol: 1e-6, rtol: 1e-4 }, "gradient");
    g.dispose();
  });

  it("gives the same values through tfjs's native complex kernels (cpu has them)", async () => {
    await tf.setBackend("cpu");
    Object.assign(tf.backend(), { firstUse: false }); // no tfjs-node advertisement in the test log
    try {
      const [m, n] = [16, 12];
      const s = random(m * n, 9);
      const native = tf.tidy(() => realIdft2Native(tf.tensor2d(s, [m, n])));
      expectClose(native.dataSync(), direct(s, m, n), { atol: 1e-6, rtol: 1e-4 }, "native");
      native.dispose();
    } finally {
      await tf.setBackend("wasm");
    }
  });

  it("stays fast on the host for 768×768 (FourierFT's q and v of ViT-B/16): 3000 coefficients in less CPU time than the definition takes for 30", () => {
    const s = sparse(768, 768, 3000, 1);
    realIdft2Host(s, 768, 768);
    const cpu = (f: () => void) => {
      const before = process.cpuUsage();
      f();
      const used = process.cpuUsage(before);
      return used.user + used.system;
    };
    const fast = cpu(() => realIdft2Host(s, 768, 768));
    // The definition's cost for a hundredth of the coefficients: a transform that is not the FFT's takes more.
    const few = new Float32Array(768 * 768);
    for (let i = 0; i < 30; i++) few[i * 7919] = 1;
    const definition = cpu(() => direct(few, 768, 768));
    expect(fast).toBeLessThan(definition);
  });
});
