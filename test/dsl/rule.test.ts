import { describe, expect, it } from "vitest";
import { firesBefore, type When } from "../../src/dsl/rule.js";

/** The steps (0-based) before which a rule runs over `epochs` epochs of `perEpoch` steps. */
const firings = (when: When, epochs: number, perEpoch: number): number[] => {
  const out: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = 0; i < perEpoch; i++) if (firesBefore(when, { epoch, stepInEpoch: i, step: epoch * perEpoch + i })) out.push(epoch * perEpoch + i);
  }
  return out;
};

describe("when a schedule rule runs", () => {
  it("once: before the first step only", () => {
    expect(firings({ _tag: "Once" }, 4, 5)).toEqual([0]);
  });

  it("every n epochs: before epochs 0, n, 2n, … (DAF's Alg. 1: an initial analysis, then after every E_interval epochs)", () => {
    expect(firings({ _tag: "Every", n: 3, unit: "epochs" }, 10, 4)).toEqual([0, 12, 24, 36]);
  });

  it("every n steps: before steps 0, n, 2n, … across epoch boundaries", () => {
    expect(firings({ _tag: "Every", n: 7, unit: "steps" }, 3, 5)).toEqual([0, 7, 14]);
  });
});
