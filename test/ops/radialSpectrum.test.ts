import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { dft2MagnitudeHost } from "../../src/ops/hostFft.js";
import { radialEnergy } from "../../src/ops/radialSpectrum.js";

describe("radial energy profile of a 2-D spectrum", () => {
  it("puts a constant matrix in the lowest band and a checkerboard in the highest", () => {
    const [m, n] = [6, 8];
    expect(radialEnergy(dft2MagnitudeHost(new Float64Array(m * n).fill(3), m, n), m, n)[0]).toBeCloseTo(1, 12);
    const checker = Float64Array.from({ length: m * n }, (_, i) => ((Math.floor(i / n) + (i % n)) % 2 === 0 ? 1 : -1));
    expect(radialEnergy(dft2MagnitudeHost(checker, m, n), m, n)[7]).toBeCloseTo(1, 12);
  });

  it("is a distribution over the bands (Parseval: shares sum to 1)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 9 }), fc.integer(), (m, n, seed) => {
        let s = seed;
        const x = Float64Array.from({ length: m * n }, () => ((s = (s * 1103515245 + 12345) | 0) % 1000) / 1000);
        const shares = radialEnergy(dft2MagnitudeHost(x, m, n), m, n);
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(x.some((v) => v !== 0) ? 1 : 0, 9);
        expect(shares.every((v) => v >= 0)).toBe(true);
      }),
      { numRuns: 50, seed: 8 },
    );
  });
});
