import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { dft2MagnitudeHost } from "../../src/ops/hostFft.js";

/** |Σ_{j,k} x[j,k] e^{−2πi(uj/m + vk/n)}| term by term in float64: the definition, no FFT. */
const magnitude64 = (x: ArrayLike<number>, m: number, n: number, u: number, v: number): number => {
  let re = 0;
  let im = 0;
  for (let j = 0; j < m; j++) {
    for (let k = 0; k < n; k++) {
      const phase = -2 * Math.PI * ((u * j) / m + (v * k) / n);
      re += x[j * n + k]! * Math.cos(phase);
      im += x[j * n + k]! * Math.sin(phase);
    }
  }
  return Math.hypot(re, im);
};

describe("the host |DFT2| that weights S²FT's positions (Eq. 7)", () => {
  it("equals the float64 definition at every frequency of non-square matrices, row-major [u, v]", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }), fc.integer({ min: 2, max: 7 }), fc.integer(), (m, n, seed) => {
        fc.pre(m !== n);
        let s = seed;
        const x = Float64Array.from({ length: m * n }, () => ((s = (s * 1103515245 + 12345) | 0) % 1000) / 500);
        const got = dft2MagnitudeHost(x, m, n);
        for (let u = 0; u < m; u++) for (let v = 0; v < n; v++) expect(got[u * n + v]).toBeCloseTo(magnitude64(x, m, n, u, v), 3);
      }),
      { numRuns: 40, seed: 3 },
    );
  });
});
