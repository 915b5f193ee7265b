import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { nearestNeighbourTour, pathEnergy } from "../../src/ops/nearestNeighbourTour.js";

const matrix = (n: number, d: number) => fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n * d, maxLength: n * d });

/** Rows sampled from a smooth curve, then shuffled by `perm`. */
const smoothShuffled = (n: number, d: number, phases: readonly number[], perm: readonly number[]): Float64Array => {
  const out = new Float64Array(n * d);
  perm.forEach((source, row) => {
    for (let c = 0; c < d; c++) out[row * d + c] = Math.sin((Math.PI * source) / n + phases[c]!) * (1 + c);
  });
  return out;
};

describe("nearest-neighbour tour (S²FT Alg. 1)", () => {
  it("is a permutation that starts at the given row", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), fc.nat(), (n, d, s) => {
        const start = s % n;
        return fc.assert(
          fc.property(matrix(n, d), (x) => {
            const order = nearestNeighbourTour(x, n, d, start);
            expect(order[0]).toBe(start);
            expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          }),
          { numRuns: 5 },
        );
      }),
      { numRuns: 40, seed: 1 },
    );
  });

  it("takes the closest unvisited row at every step (checked by brute force)", () => {
    fc.assert(
      fc.property(matrix(9, 3), (x) => {
        const order = nearestNeighbourTour(x, 9, 3, 0);
        const dist = (a: number, b: number) => [0, 1, 2].reduce((s, c) => s + (x[a * 3 + c]! - x[b * 3 + c]!) ** 2, 0);
        for (let k = 0; k + 1 < 9; k++) {
          const rest = [...order].slice(k + 1);
          expect(dist(order[k]!, order[k + 1]!)).toBeLessThanOrEqual(Math.min(...rest.map((j) => dist(order[k]!, j))) + 1e-9);
        }
      }),
      { numRuns: 100, seed: 2 },
    );
  });

  it("is never longer than the identity order on rows shuffled from a smooth matrix", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 40 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              Array.from({ length: n }, (_, i) => i),
              { minLength: n, maxLength: n },
            ),
          ),
        ),
        fc.array(fc.double({ min: 0, max: 6, noNaN: true }), { minLength: 4, maxLength: 4 }),
        ([n, perm], phases) => {
          const x = smoothShuffled(n, 4, phases, perm);
          const start = perm.indexOf(0);
          const tour = nearestNeighbourTour(x, n, 4, start);
          const identity = Array.from({ length: n }, (_, i) => i);
          expect(pathEnergy(x, 4, tour, false)).toBeLessThanOrEqual(pathEnergy(x, 4, identity, false) + 1e-9);
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("refuses a start outside the matrix", () => {
    expect(() => nearestNeighbourTour([1, 2], 2, 1, 2)).toThrowError(/not a row/);
  });
});
