import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { pathEnergy } from "../../src/ops/nearestNeighbourTour.js";

/**
 * S²FT's Proposition 1 in its exact circular form: for rows x_0 … x_{n−1} with unnormalised DFT
 * X_u = Σ_k x_k e^{−2πiuk/n} along the row index,
 *   Σ_k ‖x_{(k+1) mod n} − x_k‖² = (1/n) Σ_u 4 sin²(πu/n) ‖X_u‖².
 * The left side is the closed path energy a tour minimises; the right side weights each
 * frequency by 4 sin²(πu/n), so a short tour puts the energy at low frequencies.
 */
const spectralSide = (x: readonly number[], n: number, d: number): number => {
  let total = 0;
  for (let u = 0; u < n; u++) {
    let power = 0;
    for (let c = 0; c < d; c++) {
      let re = 0;
      let im = 0;
      for (let k = 0; k < n; k++) {
        re += x[k * d + c]! * Math.cos((2 * Math.PI * u * k) / n);
        im -= x[k * d + c]! * Math.sin((2 * Math.PI * u * k) / n);
      }
      power += re * re + im * im;
    }
    total += 4 * Math.sin((Math.PI * u) / n) ** 2 * power;
  }
  return total / n;
};

describe("Proposition 1 (circular form), float64", () => {
  it("equates the closed path energy of the rows with the frequency-weighted spectral energy to 1e-9", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 24 })
          .chain((n) =>
            fc
              .integer({ min: 1, max: 5 })
              .chain((d) =>
                fc.tuple(fc.constant(n), fc.constant(d), fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: n * d, maxLength: n * d })),
              ),
          ),
        ([n, d, x]) => {
          const order = Array.from({ length: n }, (_, i) => i);
          const left = pathEnergy(x, d, order, true);
          const right = spectralSide(x, n, d);
          expect(Math.abs(left - right)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(left)));
        },
      ),
      { numRuns: 300, seed: 4 },
    );
  });
});
