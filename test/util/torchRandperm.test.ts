import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { torchRandperm } from "../../src/util/torchRandperm.js";
import { fixturePath } from "../support/fixtures.js";

const fixture = JSON.parse(readFileSync(fixturePath("torch/randperm.json"), "utf8")) as { cases: { n: number; seed: number; first: number[] }[] };

describe("torch's CPU randperm", () => {
  it.each(fixture.cases.map((c) => [c.n, c.seed, c] as const))("n = %i, seed %s: the values torch produced", (n, seed, c) => {
    expect(Array.from(torchRandperm(n, BigInt(seed), c.first.length))).toEqual(c.first);
  });

  it("a prefix is the prefix of the whole permutation, and the whole is a permutation", () => {
    const whole = torchRandperm(5000, 3);
    expect(Array.from(torchRandperm(5000, 3, 40))).toEqual(Array.from(whole.subarray(0, 40)));
    expect([...whole].sort((a, b) => a - b)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
