import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { budgets, decide, smoothScores, trainingUnits, type Configuration, type Unit } from "../../src/interpreters/rules/decide.js";
import { categories, type Category } from "../../src/dsl/rule.js";

const unitsArb = fc.uniqueArray(
  fc.record({
    name: fc.string({ minLength: 1, maxLength: 4 }),
    category: fc.constantFrom<Category>(...categories),
    cost: fc.integer({ min: 1, max: 50 }),
    block: fc.constant(null),
  }),
  { selector: (u) => u.name, minLength: 1, maxLength: 14 },
);
const scoreArb = fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 100, noNaN: true }), fc.constant(Number.NaN), fc.integer({ min: 1, max: 3 }));
const instance = unitsArb.chain((units) =>
  fc.record({
    units: fc.constant(units as Unit[]),
    scores: fc.array(scoreArb, { minLength: units.length, maxLength: units.length }).map((s) => new Map(units.map((u, i) => [u.name, s[i]!]))),
    budget: fc.record({ matrices: fc.integer({ min: 0, max: 120 }), vectors: fc.integer({ min: 0, max: 120 }), special: fc.integer({ min: 0, max: 120 }) }),
    previous: fc.subarray(units.map((u) => u.name)).map((present): Configuration => ({ active: present, present })),
  }),
);

/** Whether unit a outranks b in its category: a higher score, or the same score earlier in candidate order. */
const outranks = (units: readonly Unit[], scores: ReadonlyMap<string, number>, a: Unit, b: Unit) =>
  scores.get(a.name)! > scores.get(b.name)! || (scores.get(a.name) === scores.get(b.name) && units.indexOf(a) < units.indexOf(b));

describe("DAF's decide: budget-based elite selection (pure)", () => {
  it("stays within every category's budget and takes only units with a positive, finite score", () => {
    fc.assert(
      fc.property(instance, ({ units, scores, budget, previous }) => {
        const c = decide(units, scores, budget, previous);
        for (const cat of categories) {
          const spent = units.filter((u) => u.category === cat && c.active.includes(u.name)).reduce((n, u) => n + u.cost, 0);
          expect(spent).toBeLessThanOrEqual(budget[cat]);
        }
        for (const name of c.active) expect(scores.get(name)! > 0 && Number.isFinite(scores.get(name)!)).toBe(true);
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it("is the greedy selection: a unit is taken iff it fits after every taken unit that outranks it", () => {
    fc.assert(
      fc.property(instance, ({ units, scores, budget, previous }) => {
        const c = decide(units, scores, budget, previous);
        const taken = units.filter((u) => c.active.includes(u.name));
        for (const u of units) {
          const s = scores.get(u.name)!;
          if (!(s > 0 && Number.isFinite(s))) continue;
          const before = taken.filter((t) => t.category === u.category && t !== u && outranks(units, scores, t, u)).reduce((n, t) => n + t.cost, 0);
          expect(c.active.includes(u.name)).toBe(before + u.cost <= budget[u.category]);
        }
      }),
      { numRuns: 300, seed: 4 },
    );
  });

  it("keeps everything ever selected present, in candidate order, and DAF-Accumulate trains all of it", () => {
    fc.assert(
      fc.property(instance, ({ units, scores, budget, previous }) => {
        const c = decide(units, scores, budget, previous);
        const expected = units.map((u) => u.name).filter((n) => c.active.includes(n) || previous.present.includes(n));
        expect(c.present).toEqual(expected);
        expect(trainingUnits(c, "refocus")).toEqual(c.active);
        expect(trainingUnits(c, "accumulate")).toEqual(c.present);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it("splits τ·T by the ratios, T the total candidate cost", () => {
    fc.assert(
      fc.property(unitsArb, fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), (units, tau, r) => {
        const total = units.reduce((n, u) => n + u.cost, 0);
        const b = budgets(units, tau, { matrices: r, vectors: 1 - 2 * r, special: r });
        expect(b.matrices + b.vectors + b.special).toBeLessThanOrEqual(tau * total + 1e-9);
        expect(b.matrices).toBeGreaterThan(r * tau * total - 1);
        expect(b.vectors).toBeGreaterThan((1 - 2 * r) * tau * total - 1);
      }),
      { numRuns: 200, seed: 6 },
    );
    const units: Unit[] = [
      { name: "a", category: "matrices", cost: 300, block: 0 },
      { name: "b", category: "vectors", cost: 50, block: 0 },
      { name: "c", category: "special", cost: 650, block: null },
    ];
    expect(budgets(units, 0.2, { matrices: 0.3, vectors: 0.4, special: 0.3 })).toEqual({ matrices: 60, vectors: 80, special: 60 });
  });

  it("smooths scores as ema·old + (1 − ema)·new where an old score exists", () => {
    const fresh = new Map([
      ["a", 10],
      ["b", 4],
    ]);
    expect(smoothScores(fresh, new Map([["a", 20]]), 0.7)).toEqual(
      new Map([
        ["a", 0.7 * 20 + 0.3 * 10],
        ["b", 4],
      ]),
    );
    expect(smoothScores(fresh, new Map([["a", 20]]), null)).toEqual(fresh);
    expect(smoothScores(fresh, null, 0.7)).toEqual(fresh);
  });
});
