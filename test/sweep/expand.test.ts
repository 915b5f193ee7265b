import { describe, expect, it } from "vitest";
import { decodeSweep, expandSweep } from "../../src/sweep/sweep.js";

// Every field written out: io-ts hands back the very objects it was given when nothing needs a default.
const lora = {
  targets: [{ select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 2, alpha: 2, scaling: "alpha/rank" } }],
  losses: [{ _tag: "Baft", weight: 0.01, pool: "cls", layers: "all", detachPredictions: false }],
  rules: [],
};
const spec = (method: unknown) =>
  decodeSweep(
    {
      name: "t",
      experiment: { optimizer: { _tag: "AdamW", lr: 0.005 }, schedule: { epochs: 1, batchSize: 8 } },
      methods: { baft: { method, grid: { "method.losses[0].weight": [0.001, 0.01, 0.1], "optimizer.weightDecay": [0, 0.05] } } },
      tasks: [
        { _tag: "MiniVtab", name: "count" },
        { _tag: "MiniVtab", name: "digits" },
      ],
      seeds: [0, 1],
    },
    "sweep.json",
  );

describe("sweep expansion", () => {
  for (const [how, method, read] of [
    ["inline", lora, () => ({})],
    ["from a file", "lora.json", () => lora],
  ] as const) {
    it(`gives every job its own parameter values (method ${how})`, () => {
      const jobs = expandSweep(spec(method), "/base", read);
      expect(jobs).toHaveLength(3 * 2 * 2 * 2);
      expect(new Set(jobs.map((j) => j.id)).size).toBe(24);
      for (const j of jobs) {
        expect((j.experiment.method.losses[0] as { weight: number }).weight).toBe(j.params["method.losses[0].weight"]);
        expect(j.experiment.optimizer.weightDecay).toBe(j.params["optimizer.weightDecay"]);
      }
      // Seed by seed, task by task.
      expect(jobs.slice(0, 6).every((j) => j.seed === 0 && j.task === "count")).toBe(true);
    });
  }
});

describe("a sweep's jobs are the ones it lists", () => {
  const head = { targets: [{ select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } }] };
  const sweep = (methods: Record<string, unknown>) =>
    decodeSweep(
      {
        name: "t",
        experiment: { optimizer: { _tag: "AdamW", lr: 0.005 }, schedule: { epochs: 1, batchSize: 8 } },
        methods,
        tasks: [{ _tag: "MiniVtab", name: "count" }],
      },
      "sweep.json",
    );
  const expand = (methods: Record<string, unknown>) => expandSweep(sweep(methods), "/base", () => ({}));

  it("gives each method name its own job, even when two hold the same method", () => {
    const keys = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    const jobs = expand(Object.fromEntries(keys.map((k) => [k, { method: head }])));
    expect(jobs.map((j) => j.method)).toEqual(keys);
    expect(new Set(jobs.map((j) => j.id)).size).toBe(9);
    expect(jobs.map((j) => j.name)).toEqual(keys.map((k) => `${k}__count__s0`));
  });

  it("refuses two names that make one job name, and one name that makes the same experiment twice, naming both", () => {
    expect(() => expand({ "a b": { method: head }, a_b: { method: head } })).toThrow(
      "methods.a b and methods.a_b are both the job a_b__count__s0: rename one (a job's name keeps only A-Z a-z 0-9 _ . -)",
    );
    expect(() => expand({ a: { method: head, grid: { "optimizer.lr": [0.01, 0.01] } } })).toThrow(
      'methods.a {"optimizer.lr":0.01} and methods.a {"optimizer.lr":0.01} are both the job a.lr-0.01__count__s0',
    );
    expect(() => expand({ a: { method: head, points: [{}, { "optimizer.lr": 0.005 }] } })).toThrow(
      'methods.a and methods.a {"optimizer.lr":0.005} are the same experiment (a__count__s0 and a.lr-0.005__count__s0): drop one',
    );
  });
});
