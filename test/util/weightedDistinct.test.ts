import { describe, expect, it } from "vitest";
import { weightedDistinct } from "../../src/util/weightedDistinct.js";
import { rng } from "../../src/util/random.js";

describe("weighted sampling without replacement", () => {
  it("draws a single index with probability ∝ weight (20,000 draws, within 4 standard errors)", () => {
    const weights = [0, 1, 2, 3, 4];
    const hits = new Array<number>(weights.length).fill(0);
    const draws = 20_000;
    for (let s = 0; s < draws; s++) hits[weightedDistinct(weights, 1, rng(s, "w"))[0]!]! += 1;
    weights.forEach((w, i) => {
      const p = w / 10;
      expect(Math.abs(hits[i]! / draws - p), `index ${i}`).toBeLessThanOrEqual(4 * Math.sqrt((p * (1 - p)) / draws) + 1e-12);
    });
  });

  it("returns distinct ascending indices, zero-weight ones only once the positive ones run out", () => {
    const got = weightedDistinct([0, 5, 0, 1, 0], 4, rng(1, "w"));
    expect([...got].sort()).toEqual([...new Set(got)].sort());
    expect([...got]).toEqual([...got].sort((a, b) => a - b));
    expect([...got]).toContain(1);
    expect([...got]).toContain(3);
    expect(() => weightedDistinct([1, 1], 3, rng(0))).toThrowError(/cannot draw 3/);
  });
});
