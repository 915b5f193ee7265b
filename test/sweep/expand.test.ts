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
