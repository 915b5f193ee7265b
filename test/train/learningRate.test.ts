import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { learningRate } from "../../src/train/learningRate.js";

const cosine = { _tag: "Cosine" } as const;
const adamw = (lr: number) => ({ _tag: "AdamW" as const, lr, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 });

describe("learning-rate schedule: linear warm-up then cosine", () => {
  it("matches the closed form at every step", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 1e-5, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1e-5, noNaN: true }),
        (epochs, warmupEpochs, stepsPerEpoch, lr, minLr) => {
          const schedule = { epochs: epochs + warmupEpochs, batchSize: 1, warmupEpochs, minLr, shape: cosine };
          const warm = warmupEpochs * stepsPerEpoch;
          const total = (epochs + warmupEpochs) * stepsPerEpoch;
          for (let s = 0; s < total; s++) {
            const expected = s < warm ? (lr * (s + 1)) / warm : minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * (s - warm)) / (total - warm)))) / 2;
            expect(learningRate(schedule, adamw(lr), s, stepsPerEpoch)).toBeCloseTo(expected, 12);
          }
        },
      ),
      { numRuns: 100, seed: 1 },
    );
  });

  it("peaks at lr when warm-up ends and decays monotonically to minLr", () => {
    const schedule = { epochs: 10, batchSize: 1, warmupEpochs: 2, minLr: 1e-4, shape: cosine };
    const at = (s: number) => learningRate(schedule, adamw(0.1), s, 5);
    expect(at(9)).toBeCloseTo(0.1, 12);
    expect(at(10)).toBeCloseTo(0.1, 12);
    for (let s = 11; s < 50; s++) expect(at(s)).toBeLessThan(at(s - 1));
    expect(at(49)).toBeGreaterThan(1e-4);
    expect(at(50)).toBeCloseTo(1e-4, 12);
  });
});

describe("learning-rate shapes after the warm-up", () => {
  it("constant holds lr; step multiplies by the factor every `everyEpochs`, floored at minLr", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 4 }),
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        (warmupEpochs, stepsPerEpoch, everyEpochs, factor, lr) => {
          const base = { epochs: 12, batchSize: 1, warmupEpochs, minLr: 1e-6 };
          const warm = warmupEpochs * stepsPerEpoch;
          for (let s = warm; s < 12 * stepsPerEpoch; s++) {
            expect(learningRate({ ...base, shape: { _tag: "Constant" } }, adamw(lr), s, stepsPerEpoch)).toBe(lr);
            // A brute-force count of the drops so far.
            let drops = 0;
            for (let k = warm; k <= s; k++) if (k > warm && (k - warm) % (everyEpochs * stepsPerEpoch) === 0) drops += 1;
            expect(learningRate({ ...base, shape: { _tag: "Step", everyEpochs, factor } }, adamw(lr), s, stepsPerEpoch)).toBeCloseTo(
              Math.max(1e-6, lr * factor ** drops),
              12,
            );
          }
        },
      ),
      { numRuns: 60, seed: 2 },
    );
  });
});
